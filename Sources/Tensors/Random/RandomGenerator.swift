/// The library's pseudo-random generator: xoshiro256** seeded by SplitMix64.
///
/// Everything random in the library (initializers, shuffling, dropout masks)
/// draws from this generator, so one seed reproduces a run bit for bit on
/// every platform and toolchain. The standard library's generators and its
/// `random(in:using:)` algorithms are not used: they may change between
/// releases.
///
/// - Seeding: the four 64-bit state words are the first four outputs of
///   SplitMix64 started at `seed` (Vigna's recommended procedure).
/// - ``next()``: xoshiro256** (Blackman & Vigna, 2018), period 2²⁵⁶ − 1.
/// - ``nextUniform()``: the top 53 bits as a `Double` in `[0, 1)`.
/// - ``nextNormal()``: Marsaglia's polar method on two uniforms in `(-1, 1)`,
///   with a logarithm computed by this file's own arithmetic so the stream
///   does not depend on the platform's libm.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64
    private var spareNormal: Double?

    /// Creates a generator whose stream is fully determined by `seed`.
    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// The next 64 random bits (xoshiro256**).
    public mutating func next() -> UInt64 {
        let result = rotateLeft(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotateLeft(s3, 45)
        return result
    }

    /// A uniform `Double` in `[0, 1)` with 53 random bits.
    public mutating func nextUniform() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A uniform integer in `0..<upperBound`, without modulo bias (Lemire's method).
    public mutating func nextIndex(below upperBound: Int) -> Int {
        require(upperBound > 0, "nextIndex(below:): upper bound must be positive, got \(upperBound)")
        let bound = UInt64(upperBound)
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold {
                product = next().multipliedFullWidth(by: bound)
            }
        }
        return Int(product.high)
    }

    /// A standard normal `Double` (mean 0, standard deviation 1), Marsaglia's polar method.
    public mutating func nextNormal() -> Double {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        while true {
            let u = 2 * nextUniform() - 1
            let v = 2 * nextUniform() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                let factor = (-2 * portableLog(s) / s).squareRoot()
                spareNormal = v * factor
                return u * factor
            }
        }
    }

    /// Fisher–Yates shuffle of `elements`, driven only by this generator.
    public mutating func shuffle<T>(_ elements: inout [T]) {
        var i = elements.count - 1
        while i > 0 {
            let j = nextIndex(below: i + 1)
            elements.swapAt(i, j)
            i -= 1
        }
    }

    /// A random permutation of `0..<count`.
    public mutating func permutation(_ count: Int) -> [Int] {
        var indices = Array(0..<count)
        shuffle(&indices)
        return indices
    }
}

@inline(__always)
private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

/// Natural logarithm of a positive, finite, normal `Double`, with only IEEE
/// `+ − × ÷` (correctly rounded everywhere), so its bits are the same on
/// every platform. `x = m·2ᵉ` with `m ∈ [√½, √2)`, then
/// `ln m = 2·atanh(s) = 2(s + s³/3 + s⁵/5 + …)` with `s = (m − 1)/(m + 1)`,
/// `|s| ≤ 0.172`; 12 terms leave a truncation error below 1e-18.
func portableLog(_ x: Double) -> Double {
    var e = Int((x.bitPattern >> 52) & 0x7FF) - 1023
    var m = Double(bitPattern: (x.bitPattern & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000)
    if m > 1.4142135623730951 {
        m *= 0.5
        e += 1
    }
    let s = (m - 1) / (m + 1)
    let s2 = s * s
    var sum = 0.0
    var k = 23.0
    while k >= 3 {
        sum = (sum + 1 / k) * s2
        k -= 2
    }
    let lnM = 2 * s * (1 + sum)
    return Double(e) * 0.6931471805599453 + lnM
}
