import Foundation
import Tensors

/// VGG's convolutional part (Simonyan & Zisserman 2014; the network the
/// course's style-transfer assignment uses), and loading torchvision's
/// pretrained weights from a safetensors file.
///
/// A configuration lists the stages: a number is a `3×3` same convolution
/// with that many filters followed by ReLU, `nil` a `2×2` max pooling —
/// torchvision's `cfgs`. The model's layers line up one to one with
/// torchvision's `vgg19().features` modules (convolution, ReLU, …, pooling), so
/// layer `i` here is `features[i]` there.
///
/// ## The name mapping for pretrained weights
///
/// torchvision stores convolution `features[i]` as `features.{i}.weight`,
/// `(n_C, n_C_prev, f, f)` (PyTorch's OIHW), and `features.{i}.bias`, `(n_C)`.
/// ``loadTorchvisionWeights(into:from:)`` reads them into layer `i`'s `W`
/// `(f, f, n_C_prev, n_C)` (the axes permuted `[2, 3, 1, 0]`) and `b`
/// `(1, 1, 1, n_C)`. To make the file in Python:
///
/// ```python
/// import torchvision, safetensors.torch
/// features = torchvision.models.vgg19(weights="IMAGENET1K_V1").features
/// safetensors.torch.save_file({f"features.{k}": v for k, v in features.state_dict().items()}, "vgg19.safetensors")
/// ```
///
/// The pretrained network expects RGB images in [0, 1] normalized per channel
/// with mean `[0.485, 0.456, 0.406]` and standard deviation `[0.229, 0.224, 0.225]`
/// (``imageNetNormalized(_:)``), channels last here.
public enum VGG {
    /// VGG-16 (torchvision's configuration "D").
    public static let vgg16: [Int?] = [64, 64, nil, 128, 128, nil, 256, 256, 256, nil, 512, 512, 512, nil, 512, 512, 512, nil]
    /// VGG-19 (configuration "E").
    public static let vgg19: [Int?] = [64, 64, nil, 128, 128, nil, 256, 256, 256, 256, nil, 512, 512, 512, 512, nil, 512, 512, 512, 512, nil]

    /// The layers of `configuration` as a ``Sequential``, He-initialized;
    /// `channelDivisor` divides every width (a small VGG-shaped network).
    public static func make<S: TensorScalar>(_ configuration: [Int?], inputChannels: Int = 3, channelDivisor: Int = 1,
                                             generator: inout RandomGenerator) -> Sequential<S> {
        require(channelDivisor >= 1, "VGG.make: channel divisor \(channelDivisor) must be at least 1")
        var layers: [any Layer<S>] = [], channels = inputChannels
        for stage in configuration {
            if let width = stage {
                let filters = Swift.max(1, width / channelDivisor)
                layers.append(Conv2D<S>(filterSize: 3, inputChannels: channels, filters: filters, padding: .same, generator: &generator))
                layers.append(Activation<S>(.relu))
                channels = filters
            } else {
                layers.append(MaxPool2D<S>(size: 2))
            }
        }
        return Sequential(layers)
    }

    /// torchvision's name of layer `index`'s parameter `key` (`"W"` → `weight`, `"b"` → `bias`).
    public static func torchvisionName(layer index: Int, key: String) -> String {
        "features.\(index).\(key == "W" ? "weight" : "bias")"
    }

    /// Fills every convolution of `model` (made by ``make(_:inputChannels:channelDivisor:generator:)``)
    /// from a safetensors file with torchvision's names and layouts (see the
    /// type's documentation). Throws ``ModelFileError`` for a missing or
    /// unreadable file, a missing tensor, or one of the wrong shape; the model
    /// is changed only when every tensor has been read and checked.
    public static func loadTorchvisionWeights<S: TensorScalar>(into model: Sequential<S>, from url: URL) throws {
        let tensors = try ModelFile.loadTensors(from: url, as: S.self)
        var updates: [(Conv2D<S>, Tensor<S>, Tensor<S>?)] = []
        for (i, layer) in model.layers.enumerated() {
            guard let conv = layer as? Conv2D<S> else { continue }
            let s = conv.W.value.shape   // (f, f, n_C_prev, n_C)
            let weightName = torchvisionName(layer: i, key: "W"), biasName = torchvisionName(layer: i, key: "b")
            guard let weight = tensors[weightName] else { throw ModelFileError.missingTensor(weightName) }
            let torchShape = [s[3], s[2], s[0], s[1]]
            guard weight.shape == torchShape else { throw ModelFileError.shapeMismatch(tensor: weightName, expected: torchShape, found: weight.shape) }
            // A layer without a bias (`useBias: false`) takes none, and a file's bias for it would be lost: refuse it.
            let bias = tensors[biasName]
            if conv.b == nil {
                if bias != nil { throw ModelFileError.corrupt("\(biasName) is a bias for layer \(i), which has none (Conv2D(useBias: false))") }
            } else {
                guard let bias else { throw ModelFileError.missingTensor(biasName) }
                guard bias.shape == [s[3]] else { throw ModelFileError.shapeMismatch(tensor: biasName, expected: [s[3]], found: bias.shape) }
            }
            updates.append((conv, weight.permuted([2, 3, 1, 0]), bias?.reshaped(to: [1, 1, 1, s[3]])))
        }
        for (conv, W, b) in updates {
            conv.W.value = W
            if let b { conv.b?.value = b }
        }
    }

    /// Images `(m, n_H, n_W, 3)` in [0, 1] normalized as torchvision's
    /// pretrained networks expect: `(x − mean_c) / std_c` per channel.
    public static func imageNetNormalized<S: TensorScalar>(_ images: Tensor<S>) -> Tensor<S> {
        require(images.rank == 4 && images.shape[3] == 3, "VGG.imageNetNormalized: images \(images.shape) must be (m, n_H, n_W, 3)")
        let mean: [S] = [0.485, 0.456, 0.406], deviation: [S] = [0.229, 0.224, 0.225]
        return (images - Tensor(mean)) / Tensor(deviation)
    }
}
