import Tensors

// The layers of a convolutional network (C4W1): images are (m, n_H, n_W, n_C),
// channels last; Flatten and GlobalAveragePool2D hand over to the dense
// layers' (features, m) layout.

extension Padding {
    /// How files store a padding: "valid", "same" or the number of rows.
    var stored: LayerConfiguration.Value {
        switch self {
        case .valid: .string("valid")
        case .same: .string("same")
        case .explicit(let p): .int(p)
        }
    }

    init(stored configuration: LayerConfiguration, key: String) throws {
        if let p = try? configuration.int(key) {
            guard p >= 0 else { throw ModelFileError.corrupt("negative padding \(p)") }
            self = .explicit(p)
            return
        }
        switch try configuration.string(key) {
        case "valid": self = .valid
        case "same": self = .same
        case let other: throw ModelFileError.corrupt("unknown padding \"\(other)\"")
        }
    }

    var summary: String {
        switch self {
        case .valid: "valid"
        case .same: "same"
        case .explicit(let p): "p=\(p)"
        }
    }
}

/// A convolutional layer (C4W1-07): `Z = conv2D(A_prev, W) + b`.
///
/// `W` is `(f, f, n_C_prev, n_C)`, `b` is `(1, 1, 1, n_C)`; input
/// `(m, n_H_prev, n_W_prev, n_C_prev)`, output `(m, n_H, n_W, n_C)` with
/// `n_H = ⌊(n_H_prev + 2p − f)/s⌋ + 1`. Parameters: `f·f·n_C_prev·n_C + n_C`
/// — 10 filters of 3×3×3 have 280. He initialization by default (fan-in `f·f·n_C_prev`).
///
/// `useBias: false` leaves `b` out (`b` is nil; Keras's `use_bias=False`,
/// PyTorch's `bias=False`): before batch norm, whose `β` takes its role, the
/// bias only costs a pass over the output and one over its gradient.
public final class Conv2D<Scalar: TensorScalar>: Layer {
    public let W: Parameter<Scalar>
    /// The bias `(1, 1, 1, n_C)`, nil for a layer built with `useBias: false`.
    public let b: Parameter<Scalar>?
    public let stride: Int
    public let padding: Padding

    public init(filterSize: Int, inputChannels: Int, filters: Int, stride: Int = 1, padding: Padding = .valid, useBias: Bool = true,
                initializer: Initializer = .he, generator: inout RandomGenerator) {
        let taps = filterSize * filterSize * inputChannels
        let drawn: Tensor<Scalar> = initializer.weights(rows: filters, columns: taps, generator: &generator)
        W = Parameter(key: "W", value: drawn.transposed().reshaped(to: [filterSize, filterSize, inputChannels, filters]), isRegularized: true)
        b = useBias ? Parameter(key: "b", value: .zeros([1, 1, 1, filters]), isRegularized: false) : nil
        self.stride = stride
        self.padding = padding
    }

    /// A layer with given filters `(f_h, f_w, n_C_prev, n_C)` and bias `(1, 1, 1, n_C)` (nil: none).
    public init(filter: Tensor<Scalar>, bias: Tensor<Scalar>?, stride: Int = 1, padding: Padding = .valid) {
        require(filter.rank == 4 && (bias == nil || bias!.shape == [1, 1, 1, filter.shape[3]]),
                "Conv2D: filter must be (f, f, n_C_prev, n_C) and bias (1, 1, 1, n_C); got \(filter.shape) and \(bias.map { "\($0.shape)" } ?? "no bias")")
        require(stride >= 1, "Conv2D: stride \(stride) must be at least 1")
        W = Parameter(key: "W", value: filter, isRegularized: true)
        b = bias.map { Parameter(key: "b", value: $0, isRegularized: false) }
        self.stride = stride
        self.padding = padding
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func forward(_ input: Variable<Scalar>, context: ForwardContext) -> Variable<Scalar> {
        conv2D(input, filter: W.variable, bias: b?.variable, stride: stride, padding: padding)
    }

    public var parameters: [Parameter<Scalar>] { b.map { [W, $0] } ?? [W] }
    public var summary: String {
        let s = W.value.shape
        return "Conv2D(\(s[0])×\(s[1]), \(s[2]) → \(s[3]), s=\(stride), \(padding.summary)\(b == nil ? ", no bias" : ""))"
    }

    public static var typeName: String { "Conv2D" }
    public var configuration: LayerConfiguration {
        var settings: [String: LayerConfiguration.Value] = ["filterShape": .ints(W.value.shape), "stride": .int(stride), "padding": padding.stored]
        if b == nil { settings["useBias"] = .bool(false) }   // files without the key have a bias
        return LayerConfiguration(settings)
    }
    public convenience init(configuration: LayerConfiguration) throws {
        let shape = try configuration.ints("filterShape"), stride = try configuration.int("stride")
        guard shape.count == 4, shape.allSatisfy({ $0 >= 0 }), stride >= 1 else {
            throw ModelFileError.corrupt("Conv2D with filter shape \(shape) and stride \(stride)")
        }
        let useBias = configuration.values["useBias"] == nil ? true : try configuration.bool("useBias")
        self.init(filter: .zeros(shape), bias: useBias ? .zeros([1, 1, 1, shape[3]]) : nil, stride: stride,
                  padding: try Padding(stored: configuration, key: "padding"))
    }
}

/// Max pooling over `f × f` windows with stride `s` (C4W1-10); no parameters.
/// `ties` chooses which tied maxima receive the gradient (the notes' mask by default).
public final class MaxPool2D<Scalar: TensorScalar>: Layer {
    public let size: Int, stride: Int, padding: Padding, ties: MaxPoolingTies

    public init(size: Int, stride: Int? = nil, padding: Padding = .valid, ties: MaxPoolingTies = .allMaxima) {
        require(size >= 1 && (stride ?? size) >= 1, "MaxPool2D: window \(size) and stride \(stride ?? size) must be at least 1")
        (self.size, self.stride, self.padding, self.ties) = (size, stride ?? size, padding, ties)
    }

    public func forward(_ input: Variable<Scalar>, context: ForwardContext) -> Variable<Scalar> {
        maxPool2D(input, size: size, stride: stride, padding: padding, ties: ties)
    }

    public var summary: String { "MaxPool2D(\(size)×\(size), s=\(stride), \(padding.summary))" }
    public static var typeName: String { "MaxPool2D" }
    public var configuration: LayerConfiguration {
        LayerConfiguration(["size": .int(size), "stride": .int(stride), "padding": padding.stored,
                            "ties": .string(ties == .allMaxima ? "all" : "first")])
    }
    public convenience init(configuration: LayerConfiguration) throws {
        let size = try configuration.int("size"), stride = try configuration.int("stride")
        guard size >= 1, stride >= 1 else { throw ModelFileError.corrupt("MaxPool2D with window \(size) and stride \(stride)") }
        self.init(size: size, stride: stride, padding: try Padding(stored: configuration, key: "padding"),
                  ties: try configuration.string("ties") == "first" ? .firstMaximum : .allMaxima)
    }
}

/// Average pooling over `f × f` windows with stride `s`; no parameters.
public final class AveragePool2D<Scalar: TensorScalar>: Layer {
    public let size: Int, stride: Int, padding: Padding

    public init(size: Int, stride: Int? = nil, padding: Padding = .valid) {
        require(size >= 1 && (stride ?? size) >= 1, "AveragePool2D: window \(size) and stride \(stride ?? size) must be at least 1")
        (self.size, self.stride, self.padding) = (size, stride ?? size, padding)
    }

    public func forward(_ input: Variable<Scalar>, context: ForwardContext) -> Variable<Scalar> {
        averagePool2D(input, size: size, stride: stride, padding: padding)
    }

    public var summary: String { "AveragePool2D(\(size)×\(size), s=\(stride), \(padding.summary))" }
    public static var typeName: String { "AveragePool2D" }
    public var configuration: LayerConfiguration {
        LayerConfiguration(["size": .int(size), "stride": .int(stride), "padding": padding.stored])
    }
    public convenience init(configuration: LayerConfiguration) throws {
        let size = try configuration.int("size"), stride = try configuration.int("stride")
        guard size >= 1, stride >= 1 else { throw ModelFileError.corrupt("AveragePool2D with window \(size) and stride \(stride)") }
        self.init(size: size, stride: stride, padding: try Padding(stored: configuration, key: "padding"))
    }
}

/// The mean of each channel over the whole feature map: `(m, n_H, n_W, n_C)`
/// → `(n_C, m)`, ready for dense layers (what ResNet, Inception and MobileNet
/// put before their classifier).
public final class GlobalAveragePool2D<Scalar: TensorScalar>: Layer {
    public init() {}

    public func forward(_ input: Variable<Scalar>, context: ForwardContext) -> Variable<Scalar> {
        let s = input.shape
        require(s.count == 4, "GlobalAveragePool2D: input \(s) must be (m, n_H, n_W, n_C)")
        return input.reshaped(to: [s[0], s[1] * s[2], s[3]]).mean(axis: 1).transposed()
    }

    public var summary: String { "GlobalAveragePool2D" }
    public static var typeName: String { "GlobalAveragePool2D" }
    public var configuration: LayerConfiguration { LayerConfiguration([:]) }
    public convenience init(configuration: LayerConfiguration) throws { self.init() }
}

/// Unrolls each example's feature map into one column: `(m, n_H, n_W, n_C)`
/// → `(n_H·n_W·n_C, m)`, the dense layers' layout (C4W1-11's flatten before
/// the fully connected layers; features in row-major (h, w, c) order).
public final class Flatten<Scalar: TensorScalar>: Layer {
    public init() {}

    public func forward(_ input: Variable<Scalar>, context: ForwardContext) -> Variable<Scalar> {
        let m = input.shape.first ?? 0
        return input.reshaped(to: [m, m == 0 ? 0 : input.value.count / m]).transposed()
    }

    public var summary: String { "Flatten" }
    public static var typeName: String { "Flatten" }
    public var configuration: LayerConfiguration { LayerConfiguration([:]) }
    public convenience init(configuration: LayerConfiguration) throws { self.init() }
}

/// A depthwise convolution (C4W2-05, MobileNet): one `f × f` filter per
/// channel, `W` `(f, f, n_C, 1)`, `b` `(1, 1, 1, n_C)`; `n_C·(f² + 1)` parameters.
public final class DepthwiseConv2D<Scalar: TensorScalar>: Layer {
    public let W: Parameter<Scalar>
    public let b: Parameter<Scalar>
    public let stride: Int
    public let padding: Padding

    public init(filterSize: Int, channels: Int, stride: Int = 1, padding: Padding = .valid,
                initializer: Initializer = .he, generator: inout RandomGenerator) {
        let drawn: Tensor<Scalar> = initializer.weights(rows: channels, columns: filterSize * filterSize, generator: &generator)
        self.W = Parameter(key: "W", value: drawn.transposed().reshaped(to: [filterSize, filterSize, channels, 1]), isRegularized: true)
        self.b = Parameter(key: "b", value: .zeros([1, 1, 1, channels]), isRegularized: false)
        (self.stride, self.padding) = (stride, padding)
    }

    public init(filter: Tensor<Scalar>, bias: Tensor<Scalar>, stride: Int = 1, padding: Padding = .valid) {
        require(filter.rank == 4 && filter.shape[3] == 1 && bias.shape == [1, 1, 1, filter.shape[2]],
                "DepthwiseConv2D: filter must be (f, f, n_C, 1) and bias (1, 1, 1, n_C); got \(filter.shape) and \(bias.shape)")
        require(stride >= 1, "DepthwiseConv2D: stride \(stride) must be at least 1")
        W = Parameter(key: "W", value: filter, isRegularized: true)
        b = Parameter(key: "b", value: bias, isRegularized: false)
        (self.stride, self.padding) = (stride, padding)
    }

    public func forward(_ input: Variable<Scalar>, context: ForwardContext) -> Variable<Scalar> {
        depthwiseConv2D(input, filter: W.variable, bias: b.variable, stride: stride, padding: padding)
    }

    public var parameters: [Parameter<Scalar>] { [W, b] }
    public var summary: String {
        let s = W.value.shape
        return "DepthwiseConv2D(\(s[0])×\(s[1]), \(s[2]) channels, s=\(stride), \(padding.summary))"
    }
    public static var typeName: String { "DepthwiseConv2D" }
    public var configuration: LayerConfiguration {
        LayerConfiguration(["filterShape": .ints(W.value.shape), "stride": .int(stride), "padding": padding.stored])
    }
    public convenience init(configuration: LayerConfiguration) throws {
        let shape = try configuration.ints("filterShape"), stride = try configuration.int("stride")
        guard shape.count == 4, shape.allSatisfy({ $0 >= 0 }), shape[3] == 1, stride >= 1 else {
            throw ModelFileError.corrupt("DepthwiseConv2D with filter shape \(shape) and stride \(stride)")
        }
        self.init(filter: .zeros(shape), bias: .zeros([1, 1, 1, shape[2]]), stride: stride,
                  padding: try Padding(stored: configuration, key: "padding"))
    }
}

/// A transposed convolution (C4W3-11, U-Net's up-sampling): `W` `(f, f, n_C_out, n_C_in)`,
/// `b` `(1, 1, 1, n_C_out)`; output `(n − 1)·s − 2p + f + outputPadding` per axis
/// (`n·s` for `.same`).
public final class Conv2DTranspose<Scalar: TensorScalar>: Layer {
    public let W: Parameter<Scalar>
    public let b: Parameter<Scalar>
    public let stride: Int, padding: Padding, outputPadding: Int

    public init(filterSize: Int, inputChannels: Int, filters: Int, stride: Int = 1, padding: Padding = .valid, outputPadding: Int = 0,
                initializer: Initializer = .he, generator: inout RandomGenerator) {
        let drawn: Tensor<Scalar> = initializer.weights(rows: inputChannels, columns: filterSize * filterSize * filters, generator: &generator)
        W = Parameter(key: "W", value: drawn.transposed().reshaped(to: [filterSize, filterSize, filters, inputChannels]), isRegularized: true)
        b = Parameter(key: "b", value: .zeros([1, 1, 1, filters]), isRegularized: false)
        (self.stride, self.padding, self.outputPadding) = (stride, padding, outputPadding)
    }

    public init(filter: Tensor<Scalar>, bias: Tensor<Scalar>, stride: Int = 1, padding: Padding = .valid, outputPadding: Int = 0) {
        require(filter.rank == 4 && bias.shape == [1, 1, 1, filter.shape[2]],
                "Conv2DTranspose: filter must be (f, f, n_C_out, n_C_in) and bias (1, 1, 1, n_C_out); got \(filter.shape) and \(bias.shape)")
        require(stride >= 1 && outputPadding >= 0 && outputPadding < stride,
                "Conv2DTranspose: stride \(stride) must be at least 1 and output padding \(outputPadding) in 0..<stride")
        W = Parameter(key: "W", value: filter, isRegularized: true)
        b = Parameter(key: "b", value: bias, isRegularized: false)
        (self.stride, self.padding, self.outputPadding) = (stride, padding, outputPadding)
    }

    public func forward(_ input: Variable<Scalar>, context: ForwardContext) -> Variable<Scalar> {
        convTranspose2D(input, filter: W.variable, bias: b.variable, stride: stride, padding: padding, outputPadding: outputPadding)
    }

    public var parameters: [Parameter<Scalar>] { [W, b] }
    public var summary: String {
        let s = W.value.shape
        return "Conv2DTranspose(\(s[0])×\(s[1]), \(s[3]) → \(s[2]), s=\(stride), \(padding.summary))"
    }
    public static var typeName: String { "Conv2DTranspose" }
    public var configuration: LayerConfiguration {
        LayerConfiguration(["filterShape": .ints(W.value.shape), "stride": .int(stride), "padding": padding.stored,
                            "outputPadding": .int(outputPadding)])
    }
    public convenience init(configuration: LayerConfiguration) throws {
        let shape = try configuration.ints("filterShape"), stride = try configuration.int("stride")
        let outputPadding = try configuration.int("outputPadding")
        guard shape.count == 4, shape.allSatisfy({ $0 >= 0 }), stride >= 1, outputPadding >= 0, outputPadding < stride else {
            throw ModelFileError.corrupt("Conv2DTranspose with filter shape \(shape), stride \(stride), output padding \(outputPadding)")
        }
        self.init(filter: .zeros(shape), bias: .zeros([1, 1, 1, shape[2]]), stride: stride,
                  padding: try Padding(stored: configuration, key: "padding"), outputPadding: outputPadding)
    }
}

/// A 1-D convolution over sequences `(m, n_W, n_C)` (C4W4-10): `W` `(f, n_C, n_C')`, `b` `(1, 1, n_C')`.
public final class Conv1D<Scalar: TensorScalar>: Layer {
    public let W: Parameter<Scalar>
    public let b: Parameter<Scalar>
    public let stride: Int, padding: Padding

    public init(filterSize: Int, inputChannels: Int, filters: Int, stride: Int = 1, padding: Padding = .valid,
                initializer: Initializer = .he, generator: inout RandomGenerator) {
        let drawn: Tensor<Scalar> = initializer.weights(rows: filters, columns: filterSize * inputChannels, generator: &generator)
        W = Parameter(key: "W", value: drawn.transposed().reshaped(to: [filterSize, inputChannels, filters]), isRegularized: true)
        b = Parameter(key: "b", value: .zeros([1, 1, filters]), isRegularized: false)
        (self.stride, self.padding) = (stride, padding)
    }

    public init(filter: Tensor<Scalar>, bias: Tensor<Scalar>, stride: Int = 1, padding: Padding = .valid) {
        require(filter.rank == 3 && bias.shape == [1, 1, filter.shape[2]],
                "Conv1D: filter must be (f, n_C, n_C') and bias (1, 1, n_C'); got \(filter.shape) and \(bias.shape)")
        require(stride >= 1, "Conv1D: stride \(stride) must be at least 1")
        W = Parameter(key: "W", value: filter, isRegularized: true)
        b = Parameter(key: "b", value: bias, isRegularized: false)
        (self.stride, self.padding) = (stride, padding)
    }

    public func forward(_ input: Variable<Scalar>, context: ForwardContext) -> Variable<Scalar> {
        conv1D(input, filter: W.variable, bias: b.variable, stride: stride, padding: padding)
    }

    public var parameters: [Parameter<Scalar>] { [W, b] }
    public var summary: String {
        let s = W.value.shape
        return "Conv1D(\(s[0]), \(s[1]) → \(s[2]), s=\(stride), \(padding.summary))"
    }
    public static var typeName: String { "Conv1D" }
    public var configuration: LayerConfiguration {
        LayerConfiguration(["filterShape": .ints(W.value.shape), "stride": .int(stride), "padding": padding.stored])
    }
    public convenience init(configuration: LayerConfiguration) throws {
        let shape = try configuration.ints("filterShape"), stride = try configuration.int("stride")
        guard shape.count == 3, shape.allSatisfy({ $0 >= 0 }), stride >= 1 else {
            throw ModelFileError.corrupt("Conv1D with filter shape \(shape) and stride \(stride)")
        }
        self.init(filter: .zeros(shape), bias: .zeros([1, 1, shape[2]]), stride: stride, padding: try Padding(stored: configuration, key: "padding"))
    }
}

/// A 3-D convolution over volumes `(m, n_D, n_H, n_W, n_C)` (C4W4-10):
/// `W` `(f, f, f, n_C, n_C')`, `b` `(1, 1, 1, 1, n_C')`.
public final class Conv3D<Scalar: TensorScalar>: Layer {
    public let W: Parameter<Scalar>
    public let b: Parameter<Scalar>
    public let stride: Int, padding: Padding

    public init(filterSize: Int, inputChannels: Int, filters: Int, stride: Int = 1, padding: Padding = .valid,
                initializer: Initializer = .he, generator: inout RandomGenerator) {
        let taps = filterSize * filterSize * filterSize * inputChannels
        let drawn: Tensor<Scalar> = initializer.weights(rows: filters, columns: taps, generator: &generator)
        W = Parameter(key: "W", value: drawn.transposed().reshaped(to: [filterSize, filterSize, filterSize, inputChannels, filters]), isRegularized: true)
        b = Parameter(key: "b", value: .zeros([1, 1, 1, 1, filters]), isRegularized: false)
        (self.stride, self.padding) = (stride, padding)
    }

    public init(filter: Tensor<Scalar>, bias: Tensor<Scalar>, stride: Int = 1, padding: Padding = .valid) {
        require(filter.rank == 5 && bias.shape == [1, 1, 1, 1, filter.shape[4]],
                "Conv3D: filter must be (f, f, f, n_C, n_C') and bias (1, 1, 1, 1, n_C'); got \(filter.shape) and \(bias.shape)")
        require(stride >= 1, "Conv3D: stride \(stride) must be at least 1")
        W = Parameter(key: "W", value: filter, isRegularized: true)
        b = Parameter(key: "b", value: bias, isRegularized: false)
        (self.stride, self.padding) = (stride, padding)
    }

    public func forward(_ input: Variable<Scalar>, context: ForwardContext) -> Variable<Scalar> {
        conv3D(input, filter: W.variable, bias: b.variable, stride: stride, padding: padding)
    }

    public var parameters: [Parameter<Scalar>] { [W, b] }
    public var summary: String {
        let s = W.value.shape
        return "Conv3D(\(s[0])×\(s[1])×\(s[2]), \(s[3]) → \(s[4]), s=\(stride), \(padding.summary))"
    }
    public static var typeName: String { "Conv3D" }
    public var configuration: LayerConfiguration {
        LayerConfiguration(["filterShape": .ints(W.value.shape), "stride": .int(stride), "padding": padding.stored])
    }
    public convenience init(configuration: LayerConfiguration) throws {
        let shape = try configuration.ints("filterShape"), stride = try configuration.int("stride")
        guard shape.count == 5, shape.allSatisfy({ $0 >= 0 }), stride >= 1 else {
            throw ModelFileError.corrupt("Conv3D with filter shape \(shape) and stride \(stride)")
        }
        self.init(filter: .zeros(shape), bias: .zeros([1, 1, 1, 1, shape[4]]), stride: stride, padding: try Padding(stored: configuration, key: "padding"))
    }
}
