import Foundation

/// What is wrong with an image file; each case says where.
public enum ImageFileError: Error, CustomStringConvertible, Equatable {
    case noSuchFile(String)
    /// Not a format this library reads (the first bytes are named).
    case unsupportedFormat(String)
    /// A header field that is missing, not a number, or out of range.
    case malformedHeader(String)
    /// Fewer pixel bytes than the header promises.
    case truncated(expected: Int, found: Int)

    public var description: String {
        switch self {
        case .noSuchFile(let path): "no such image file: \(path)"
        case .unsupportedFormat(let detail): "unsupported image format: \(detail)"
        case .malformedHeader(let detail): "malformed image header: \(detail)"
        case let .truncated(expected, found): "image file is truncated: the header promises \(expected) bytes of pixels, the file has \(found)"
        }
    }
}

/// Reading and writing images in pure Swift: binary Netpbm (PGM `P5`, grey;
/// PPM `P6`, RGB) both ways, and PNG for writing (8-bit grey or RGB, its
/// zlib stream made of stored — uncompressed — deflate blocks, with the
/// chunk CRC-32s and the stream's Adler-32 every PNG reader checks). Writes
/// are atomic: a temporary file renamed over the target.
public enum ImageFile {
    /// Reads a binary PGM or PPM file (any `maxval` up to 65535: values are
    /// rescaled to 0…255, 16-bit samples big-endian as the format says).
    /// Throws ``ImageFileError`` for a missing, truncated or malformed file.
    public static func read(from url: URL) throws -> Image {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw ImageFileError.noSuchFile(url.path) }
        return try readNetpbm(data)
    }

    /// Parses the bytes of a binary PGM (`P5`) or PPM (`P6`) file.
    public static func readNetpbm(_ data: Data) throws -> Image {
        let bytes = [UInt8](data)
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "P") else {
            if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) { throw ImageFileError.unsupportedFormat("PNG files are written, not read; convert to PPM/PGM") }
            throw ImageFileError.unsupportedFormat("the file does not start with a Netpbm magic number (P5 or P6)")
        }
        let channels: Int
        switch bytes[1] {
        case UInt8(ascii: "5"): channels = 1
        case UInt8(ascii: "6"): channels = 3
        case UInt8(ascii: "1")...UInt8(ascii: "4"), UInt8(ascii: "7"):
            throw ImageFileError.unsupportedFormat("Netpbm P\(Character(UnicodeScalar(bytes[1]))) (only binary P5 grey and P6 colour are read)")
        default: throw ImageFileError.unsupportedFormat("unknown Netpbm magic number")
        }
        var position = 2
        func field(_ name: String) throws -> Int {
            // Whitespace and `#` comments (to the end of the line) separate the fields.
            while position < bytes.count {
                let b = bytes[position]
                if b == UInt8(ascii: "#") {
                    while position < bytes.count && bytes[position] != 10 && bytes[position] != 13 { position += 1 }
                } else if b == 32 || (9...13).contains(b) {
                    position += 1
                } else { break }
            }
            guard position < bytes.count else { throw ImageFileError.malformedHeader("the file ends before the \(name)") }
            var value = 0, digits = 0
            while position < bytes.count, (48...57).contains(bytes[position]) {
                value = value * 10 + Int(bytes[position] - 48)
                digits += 1
                position += 1
                guard value <= 1 << 24 else { throw ImageFileError.malformedHeader("\(name) is larger than 16777216") }
            }
            guard digits > 0 else {
                throw ImageFileError.malformedHeader("the \(name) is not a number (byte \(bytes[position]) at offset \(position))")
            }
            return value
        }
        let width = try field("width"), height = try field("height"), maxValue = try field("maximum value")
        guard width > 0 && height > 0 else { throw ImageFileError.malformedHeader("size \(width)×\(height) must be positive") }
        guard (1...65535).contains(maxValue) else { throw ImageFileError.malformedHeader("maximum value \(maxValue) must be 1…65535") }
        guard position < bytes.count, bytes[position] == 32 || (9...13).contains(bytes[position]) else {
            throw ImageFileError.malformedHeader("no whitespace byte between the header and the pixels")
        }
        position += 1
        let bytesPerSample = maxValue > 255 ? 2 : 1
        let samples = width * height * channels
        guard samples <= 1 << 30 else { throw ImageFileError.malformedHeader("\(width)×\(height) image is too large") }
        let available = bytes.count - position
        guard available >= samples * bytesPerSample else { throw ImageFileError.truncated(expected: samples * bytesPerSample, found: available) }
        var pixels = [UInt8](repeating: 0, count: samples)
        for i in 0..<samples {
            let raw = bytesPerSample == 1 ? Int(bytes[position + i])
                : Int(bytes[position + 2 * i]) << 8 | Int(bytes[position + 2 * i + 1])
            guard raw <= maxValue else {
                throw ImageFileError.malformedHeader("sample \(i) is \(raw), above the maximum value \(maxValue)")
            }
            pixels[i] = maxValue == 255 ? UInt8(raw) : UInt8((Double(raw) * 255 / Double(maxValue)).rounded())
        }
        return Image(height: height, width: width, channels: channels, pixels: pixels)
    }

    /// The binary Netpbm bytes of `image`: PGM (`P5`) for grey, PPM (`P6`) for RGB, maxval 255.
    public static func netpbmData(_ image: Image) -> Data {
        var data = Data("P\(image.channels == 1 ? 5 : 6)\n\(image.width) \(image.height)\n255\n".utf8)
        data.append(contentsOf: image.pixels)
        return data
    }

    /// Writes `image` as PGM (grey) or PPM (RGB), atomically.
    public static func writeNetpbm(_ image: Image, to url: URL) throws {
        try netpbmData(image).write(to: url, options: .atomic)
    }

    /// The PNG bytes of `image`: signature, `IHDR` (8-bit, colour type 0 grey
    /// or 2 RGB), one `IDAT` holding a zlib stream of stored deflate blocks
    /// (each scanline with filter byte 0), `IEND`.
    public static func pngData(_ image: Image) -> Data {
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        func chunk(_ type: String, _ body: [UInt8]) {
            out += bigEndian(UInt32(body.count))
            let typed = Array(type.utf8) + body
            out += typed
            out += bigEndian(CRC32.checksum(typed))
        }
        chunk("IHDR", bigEndian(UInt32(image.width)) + bigEndian(UInt32(image.height))
              + [8, image.channels == 1 ? 0 : 2, 0, 0, 0])
        let rowBytes = image.width * image.channels
        var raw = [UInt8]()
        raw.reserveCapacity(image.height * (rowBytes + 1))
        for r in 0..<image.height {
            raw.append(0)   // filter type None
            raw += image.pixels[r * rowBytes..<(r + 1) * rowBytes]
        }
        var zlib: [UInt8] = [0x78, 0x01]   // deflate, 32 KiB window; (0x78·256 + 0x01) % 31 == 0
        var start = 0
        repeat {
            let length = Swift.min(65535, raw.count - start)
            let final = start + length == raw.count
            zlib.append(final ? 1 : 0)   // BFINAL, BTYPE 00 (stored)
            zlib += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)]
            zlib += raw[start..<start + length]
            start += length
        } while start < raw.count
        zlib += bigEndian(Adler32.checksum(raw))
        chunk("IDAT", zlib)
        chunk("IEND", [])
        return Data(out)
    }

    /// Writes `image` as a PNG file, atomically.
    public static func writePNG(_ image: Image, to url: URL) throws {
        try pngData(image).write(to: url, options: .atomic)
    }

    private static func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
}

/// CRC-32 as PNG and zlib's `crc32` define it (reflected polynomial 0xEDB88320).
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}

/// Adler-32 as zlib defines it: `(b << 16) | a`, sums modulo 65521.
enum Adler32 {
    static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var a: UInt32 = 1, b: UInt32 = 0
        var pending = 0
        for byte in bytes {
            a += UInt32(byte)
            b += a
            pending += 1
            if pending == 5552 {   // zlib's NMAX: the largest run before b can overflow 32 bits
                a %= 65521
                b %= 65521
                pending = 0
            }
        }
        return (b % 65521) << 16 | (a % 65521)
    }
}
