/// Stops the program with `message` unless `condition` holds, in every build
/// configuration: `fatalError` keeps its message in optimized builds, where
/// `precondition`'s is dropped. For programming errors only; data a caller can
/// get wrong at run time (files, training inputs) throws instead.
@inline(__always)
func require(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #file, line: UInt = #line) {
    if !condition { fatalError(message(), file: file, line: line) }
}
