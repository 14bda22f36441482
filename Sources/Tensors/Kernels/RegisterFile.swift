/// What a kernel's register tile may assume about the vector registers.
///
/// The micro-kernels are generic over the vector type; the register file they
/// run on follows from its width. 512-bit vectors mean AVX-512 and its 32
/// registers, where tiles of 16–24 accumulators fit; 256-bit vectors mean
/// AVX2's 16, where such tiles spill and the kernels take 12 or fewer. (A
/// 16-accumulator filter-gradient tile on 256-bit vectors ran at half speed:
/// see ``IndirectConvolutionKernels/filterGradient(_:_:_:_:kernel:)``.)
enum RegisterFile {
    /// Whether vectors of type `V` are 512 bits wide, so the kernels may use
    /// the larger tiles of the 32-register file.
    @inline(__always)
    static func hasWideVectors<V: SIMD>(_: V.Type) -> Bool { MemoryLayout<V>.size >= 64 }

    /// ``hasWideVectors(_:)`` for the vector width a kernel family dispatches
    /// to, where only the family is known (`GEMMKernel.isWide`).
    @inline(__always)
    static func vectorBytes(_ kernel: GEMMKernel) -> Int { kernel.isWide ? 64 : 32 }
}
