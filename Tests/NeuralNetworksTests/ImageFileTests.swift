import Foundation
import NeuralNetworks
import Tensors
import XCTest

/// Netpbm reading and writing, PNG writing, and the errors of bad files.
final class ImageFileTests: XCTestCase {
    let rgb = Image(height: 2, width: 3, channels: 3, pixels: (0..<18).map { UInt8($0 * 14) })

    func temporaryURL(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("image-\(ProcessInfo.processInfo.processIdentifier)-\(name)")
    }

    func testNetpbmRoundTripsGreyAndColour() throws {
        let grey = Image(height: 3, width: 2, channels: 1, pixels: [0, 50, 100, 150, 200, 255])
        for image in [rgb, grey] {
            let url = temporaryURL("round.\(image.channels == 1 ? "pgm" : "ppm")")
            defer { try? FileManager.default.removeItem(at: url) }
            try ImageFile.writeNetpbm(image, to: url)
            XCTAssertEqual(try ImageFile.read(from: url), image)
        }
        XCTAssertEqual(String(decoding: ImageFile.netpbmData(grey).prefix(11), as: UTF8.self), "P5\n2 3\n255\n")
    }

    func testNetpbmHeaderCommentsAndOtherMaximumValues() throws {
        // Comments anywhere in the header; maxval 15 rescales to 0…255 (15 → 255, 5 → 85).
        let small = Data("P5 # grey\n2 # width\n1\n15\n".utf8) + Data([5, 15])
        XCTAssertEqual(try ImageFile.readNetpbm(small).pixels, [85, 255])
        // 16-bit samples are big-endian: 0x8000 of 65535 → 128.
        let wide = Data("P5\n1 1\n65535\n".utf8) + Data([0x80, 0x00])
        XCTAssertEqual(try ImageFile.readNetpbm(wide).pixels, [128])
    }

    func testBadNetpbmFilesThrowDescriptiveErrors() {
        func error(_ bytes: Data) -> ImageFileError? {
            do { _ = try ImageFile.readNetpbm(bytes); return nil } catch { return error as? ImageFileError }
        }
        let full = ImageFile.netpbmData(rgb)
        XCTAssertEqual(error(full.prefix(full.count - 1)), .truncated(expected: 18, found: 17))
        XCTAssertEqual(error(Data("P6\n3 2\n255\n".utf8)), .truncated(expected: 18, found: 0))
        XCTAssertEqual(error(Data("P6\n3".utf8)), .malformedHeader("the file ends before the height"))
        XCTAssertEqual(error(Data("P6\n3 x\n255\n".utf8)), .malformedHeader("the height is not a number (byte 120 at offset 5)"))
        XCTAssertEqual(error(Data("P6\n0 2\n255\n".utf8)), .malformedHeader("size 0×2 must be positive"))
        XCTAssertEqual(error(Data("P6\n1 1\n70000\n".utf8)), .malformedHeader("maximum value 70000 must be 1…65535"))
        XCTAssertEqual(error(Data("P5\n1 1\n15\n".utf8) + Data([16])), .malformedHeader("sample 0 is 16, above the maximum value 15"))
        XCTAssertEqual(error(Data("P3\n1 1\n255\n0 0 0\n".utf8)),
                       .unsupportedFormat("Netpbm P3 (only binary P5 grey and P6 colour are read)"))
        XCTAssertEqual(error(Data("GIF89a".utf8)), .unsupportedFormat("the file does not start with a Netpbm magic number (P5 or P6)"))
        XCTAssertEqual(error(Data()), .unsupportedFormat("the file does not start with a Netpbm magic number (P5 or P6)"))
        XCTAssertThrowsError(try ImageFile.read(from: temporaryURL("missing.ppm"))) {
            XCTAssertEqual(($0 as? ImageFileError)?.description.hasPrefix("no such image file"), true)
        }
        XCTAssertEqual(ImageFileError.truncated(expected: 18, found: 17).description,
                       "image file is truncated: the header promises 18 bytes of pixels, the file has 17")
    }

    /// Reads back what `pngData` wrote with an independent, bit-by-bit CRC and
    /// a stored-block inflater, checking every checksum on the way.
    func decodeStoredPNG(_ data: Data) throws -> (width: Int, height: Int, colorType: UInt8, raw: [UInt8]) {
        let bytes = [UInt8](data)
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        func u32(_ i: Int) -> Int { Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]) }
        func crc(_ s: ArraySlice<UInt8>) -> Int {
            var c: UInt32 = 0xFFFF_FFFF
            for b in s {
                c ^= UInt32(b)
                for _ in 0..<8 { c = (c >> 1) ^ (c & 1 == 1 ? 0xEDB8_8320 : 0) }
            }
            return Int(c ^ 0xFFFF_FFFF)
        }
        var position = 8, chunks: [(String, ArraySlice<UInt8>)] = []
        while position < bytes.count {
            let length = u32(position)
            let typeAndBody = bytes[position + 4..<position + 8 + length]
            XCTAssertEqual(u32(position + 8 + length), crc(typeAndBody), "chunk CRC")
            chunks.append((String(decoding: typeAndBody.prefix(4), as: UTF8.self), typeAndBody.dropFirst(4)))
            position += 12 + length
        }
        XCTAssertEqual(chunks.map(\.0), ["IHDR", "IDAT", "IEND"])
        let header = Array(chunks[0].1), zlib = Array(chunks[1].1)
        XCTAssertEqual((Int(zlib[0]) << 8 | Int(zlib[1])) % 31, 0, "zlib header check bits")
        var raw: [UInt8] = [], p = 2, final = false
        while !final {
            final = zlib[p] & 1 == 1
            XCTAssertEqual(zlib[p] >> 1, 0, "stored block")
            let length = Int(zlib[p + 1]) | Int(zlib[p + 2]) << 8, complement = Int(zlib[p + 3]) | Int(zlib[p + 4]) << 8
            XCTAssertEqual(length ^ 0xFFFF, complement, "LEN and NLEN")
            raw += zlib[p + 5..<p + 5 + length]
            p += 5 + length
        }
        var a = 1, b = 0
        for byte in raw { a = (a + Int(byte)) % 65521; b = (b + a) % 65521 }
        let adler = Array(zlib[p..<p + 4])
        XCTAssertEqual(Int(adler[0]) << 24 | Int(adler[1]) << 16 | Int(adler[2]) << 8 | Int(adler[3]), b << 16 | a, "Adler-32")
        XCTAssertEqual(p + 4, zlib.count)
        return (Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3]),
                Int(header[4]) << 24 | Int(header[5]) << 16 | Int(header[6]) << 8 | Int(header[7]), header[9], raw)
    }

    func testPNGHasValidChecksumsAndTheImageBytes() throws {
        let png = try decodeStoredPNG(ImageFile.pngData(rgb))
        XCTAssertEqual([png.width, png.height], [3, 2])
        XCTAssertEqual(png.colorType, 2)
        XCTAssertEqual(png.raw, [0] + rgb.pixels[0..<9] + [0] + rgb.pixels[9..<18], "filter byte 0, then each row")
        // Large enough for several stored blocks (each at most 65535 bytes).
        var g = RandomGenerator(seed: 5)
        let big = Image(height: 300, width: 250, channels: 3, pixels: (0..<225_000).map { _ in UInt8(g.nextUniform() * 256) % 255 })
        let decoded = try decodeStoredPNG(ImageFile.pngData(big))
        XCTAssertEqual(decoded.raw.count, 300 * (750 + 1))
        XCTAssertEqual(Array(decoded.raw[751 + 1..<751 + 1 + 750]), Array(big.pixels[750..<1500]))
        let grey = try decodeStoredPNG(ImageFile.pngData(Image(height: 1, width: 1, channels: 1, pixels: [7])))
        XCTAssertEqual(grey.colorType, 0)
        XCTAssertEqual(grey.raw, [0, 7])
    }

    func testTensorConversionScalesAndClamps() {
        let t = Tensor<Float>(shape: [1, 1, 3, 1], scalars: [-0.5, 0.5, 2])
        XCTAssertEqual(Image(t).pixels, [0, 128, 255])
        XCTAssertEqual(Image(Tensor<Float>(shape: [1, 2, 1], scalars: [-1, 1]), range: -1...1).pixels, [0, 255])
        XCTAssertEqual(rgb.tensor(as: Double.self).shape, [1, 2, 3, 3])
        XCTAssertEqual(Image(rgb.tensor(as: Float.self)), rgb, "bytes → [0, 1] → bytes is exact")
        var canvas = Image(height: 4, width: 5, color: [0])
        canvas.drawRectangle(x0: 1, y0: 1, x1: 3, y1: 2, color: [9])
        XCTAssertEqual(canvas.pixels, [0, 0, 0, 0, 0,  0, 9, 9, 9, 0,  0, 9, 9, 9, 0,  0, 0, 0, 0, 0])
        XCTAssertEqual(Image.row([canvas, canvas], gap: 1).width, 11)
        XCTAssertEqual(canvas.scaled(by: 2).height, 8)
    }
}
