// swift-tools-version: 6.0
import PackageDescription

// No dependencies, no C targets and no unsafe compiler-flag settings, so SwiftPM
// accepts the package as a versioned dependency. Pass CPU flags on the command line:
//   swift build -c release -Xswiftc -target-cpu -Xswiftc native
let package = Package(
    name: "swift-deep-learning",
    products: [
        .library(name: "Tensors", targets: ["Tensors"]),
        .library(name: "NeuralNetworks", targets: ["NeuralNetworks"]),
    ],
    targets: [
        .target(
            name: "Tensors",
            // Without FMA code generation `addProduct`, `rounded()` and (in debug)
            // `squareRoot()` become libm calls.
            linkerSettings: [.linkedLibrary("m")]
        ),
        .target(
            name: "NeuralNetworks",
            dependencies: ["Tensors"],
            resources: [.copy("Resources/digits.csv"), .copy("Resources/DIGITS-NOTICE.txt")]
        ),
        .executableTarget(
            name: "Benchmarks",
            dependencies: ["Tensors", "NeuralNetworks"],
            path: "Benchmarks",
            exclude: ["Peers", "HISTORY.md"]
        ),
        .executableTarget(
            name: "digits",
            dependencies: ["Tensors", "NeuralNetworks"],
            path: "Sources/DigitsExample"
        ),
        .executableTarget(
            name: "vision",
            dependencies: ["Tensors", "NeuralNetworks"],
            path: "Sources/VisionExamples"
        ),
        .executableTarget(
            name: "sequences",
            dependencies: ["Tensors", "NeuralNetworks"],
            path: "Sources/SequenceExamples"
        ),
        .executableTarget(
            name: "porting",
            dependencies: ["Tensors", "NeuralNetworks"],
            path: "Sources/PortingExample"
        ),
        .executableTarget(
            name: "probe",
            dependencies: ["Tensors", "NeuralNetworks"],
            path: "Sources/Probe"
        ),
        .testTarget(
            name: "TensorsTests",
            dependencies: ["Tensors", "probe"],
            resources: [.copy("Reference")]
        ),
        .testTarget(
            name: "NeuralNetworksTests",
            dependencies: ["NeuralNetworks", "Tensors", "probe"],
            exclude: ["Reference"]   // the Python scripts that produced reference values
        ),
    ],
    swiftLanguageModes: [.v6]
)
