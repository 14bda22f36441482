/// Debug builds run SIMD code hundreds of times slower, so long training runs
/// are shortened there; release test builds (the README command, run by CI)
/// use the full length.
#if DEBUG
let isReleaseBuild = false
#else
let isReleaseBuild = true
#endif
