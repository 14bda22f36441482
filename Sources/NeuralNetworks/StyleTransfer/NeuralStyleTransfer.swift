import Foundation
import Tensors

/// Neural style transfer (C4W4-07…09; Gatys et al. 2015): the pixels of a
/// generated image `G` are optimized, through a frozen convolutional network,
/// to minimize `J(G) = α·J_content(C, G) + β·J_style(S, G)`.
///
/// `layers` is the feature network run in order (a trained model's
/// convolutional part, e.g. ``VGG/make(_:inputChannels:channelDivisor:generator:)``
/// with weights loaded from torchvision's file); its parameters are never
/// updated and get no gradients — only the image does, through the tape's
/// gradient with respect to the input. `contentLayer` and `styleLayers` index
/// the outputs of `layers` (0 is the first layer's output).
public struct NeuralStyleTransfer<Scalar: TensorScalar> {
    public let layers: [any Layer<Scalar>]
    public var contentLayer: Int
    /// `(layer, λ^[l])` pairs; the notes' `J_style = Σ_l λ^[l] J_style^[l]`.
    public var styleLayers: [(layer: Int, weight: Scalar)]
    /// `α` and `β`; the assignment's 10 and 40 by default.
    public var alpha: Scalar = 10
    public var beta: Scalar = 40
    public var contentNormalization: ContentCostNormalization = .notes
    /// `γ` of an optional smoothness term `γ·Σ[(G_{i+1,j} − G_{i,j})² + (G_{i,j+1} − G_{i,j})²]`
    /// over pixels and channels (squared total variation; not in the notes or
    /// Gatys et al., common in implementations since Johnson et al. 2016 to
    /// suppress the high-frequency noise a small feature network leaves). 0 by default.
    public var totalVariationWeight: Scalar = 0

    public init(layers: [any Layer<Scalar>], contentLayer: Int, styleLayers: [(layer: Int, weight: Scalar)]) {
        require(!styleLayers.isEmpty, "NeuralStyleTransfer: at least one style layer")
        let deepest = ([contentLayer] + styleLayers.map(\.layer)).max()!
        require(contentLayer >= 0 && styleLayers.allSatisfy { $0.layer >= 0 } && deepest < layers.count,
                "NeuralStyleTransfer: layer indices must lie in 0..<\(layers.count)")
        (self.layers, self.contentLayer, self.styleLayers) = (layers, contentLayer, styleLayers)
    }

    /// The outputs of `layers[0…deepest]` for a `(1, n_H, n_W, n_C)` image, in inference mode.
    public func activations(_ image: Variable<Scalar>) -> [Variable<Scalar>] {
        let deepest = ([contentLayer] + styleLayers.map(\.layer)).max()!
        let context = ForwardContext(training: false)
        var outputs: [Variable<Scalar>] = [], a = image
        for layer in layers.prefix(deepest + 1) {
            a = layer.forward(a, context: context)
            outputs.append(a)
        }
        return outputs
    }

    /// What the cost compares against: the content image's activation at
    /// `contentLayer` and the style image's Gram matrices at the style layers.
    public func targets(content: Tensor<Scalar>, style: Tensor<Scalar>) -> (content: Tensor<Scalar>, styleGrams: [Tensor<Scalar>]) {
        withoutGradients {
            let c = activations(Variable(content))[contentLayer].value
            let s = activations(Variable(style))
            return (c, styleLayers.map { gramMatrix(s[$0.layer]).value })
        }
    }

    /// `J(G) = α J_content + β J_style` on the tape, for `generated` `(1, n_H, n_W, n_C)`.
    public func cost(_ generated: Variable<Scalar>, targets: (content: Tensor<Scalar>, styleGrams: [Tensor<Scalar>])) -> Variable<Scalar> {
        let a = activations(generated)
        let content = contentCost(generated: a[contentLayer], content: targets.content, normalization: contentNormalization)
        let style = styleCost(generated: styleLayers.map { a[$0.layer] }, styleGrams: targets.styleGrams, weights: styleLayers.map(\.weight))
        let J = content * alpha + style * beta
        return totalVariationWeight == 0 ? J : J + totalVariation(generated) * totalVariationWeight
    }

    /// `Σ[(G_{i+1,j} − G_{i,j})² + (G_{i,j+1} − G_{i,j})²]` of an image batch `(m, n_H, n_W, n_C)`.
    public func totalVariation(_ image: Variable<Scalar>) -> Variable<Scalar> {
        let (h, w) = (image.shape[1], image.shape[2])
        let vertical = image.slice(axis: 1, 1..<h) - image.slice(axis: 1, 0..<h - 1)
        let horizontal = image.slice(axis: 2, 1..<w) - image.slice(axis: 2, 0..<w - 1)
        return square(vertical).sum() + square(horizontal).sum()
    }

    /// Runs the optimization (C4W4-07): `G` starts from `initial` (the notes
    /// start from noise; the assignment from the content image plus noise), and
    /// each of `steps` Adam updates follows `∂J/∂G`, after which the pixels are
    /// clipped to `pixelRange`. The layers' parameters are frozen for the run and
    /// restored to their trainability afterwards. Returns the image and the cost
    /// before each step; throws ``TrainingError/nonFinite(epoch:batch:cost:parameter:)``
    /// before an update whose cost or gradient is not finite.
    public func run(content: Tensor<Scalar>, style: Tensor<Scalar>, initial: Tensor<Scalar>, steps: Int,
                    learningRate: Double = 0.01, pixelRange: ClosedRange<Scalar> = 0...1) throws -> (image: Tensor<Scalar>, costs: [Double]) {
        require(initial.shape == content.shape, "NeuralStyleTransfer.run: initial image \(initial.shape) and content image \(content.shape) differ")
        let parameters = layers.flatMap { $0.parameters }
        let trainable = parameters.map { $0.isTrainable }
        for p in parameters { p.isTrainable = false }
        defer { for (p, t) in zip(parameters, trainable) { p.isTrainable = t } }
        let targets = self.targets(content: content, style: style)
        let image = Parameter(key: "G", value: initial, isRegularized: false)
        let optimizer = Adam<Scalar>(learningRate: learningRate)
        var costs: [Double] = []
        for step in 1...Swift.max(steps, 1) where step <= steps {
            image.gradient = nil
            let J = GradientTape.$isRecording.withValue(true) { () -> Scalar in
                let J = cost(image.variable, targets: targets)
                J.backward()
                return J.value.scalar
            }
            guard J.isFinite, image.gradient?.isFinite ?? false else {
                throw TrainingError.nonFinite(epoch: 1, batch: step, cost: Double(J), parameter: "G")
            }
            costs.append(Double(J))
            optimizer.step([image])
            image.value = clip(image.value, lower: pixelRange.lowerBound, upper: pixelRange.upperBound)
        }
        return (image.value, costs)
    }
}
