// Backward rules of convolution and pooling (C4W1's conv_backward and pool_backward):
//
//   Z = conv2D(A_prev, W) + b   dA_prev = conv2DBackwardInput(dZ, W)    (each dZ[i,h,w,c] adds W[:,:,:,c]·dZ into its slice)
//                               dW      = conv2DBackwardFilter(dZ, A_prev)   (Σ a_slice·dZ[i,h,w,c])
//                               db      = Σ_{i,h,w} dZ[i,h,w,:]
//   A = maxPool2D(A_prev)       dA_prev = dA routed to each window's maximum (tie rule: MaxPoolingTies)
//   A = averagePool2D(A_prev)   dA_prev = dA/f² spread over each window
//   Z = depthwiseConv2D(A_prev, W) + b   dA_prev[…, c] += W[a, b, c]·dZ[…, c],  dW[a, b, c] = Σ a_slice·dZ,  db = Σ dZ

/// ``conv2D(_:filter:bias:stride:padding:)-(Tensor<S>,_,_,_,_)`` recorded on the tape.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func conv2D<S>(_ input: Variable<S>, filter: Variable<S>, bias: Variable<S>? = nil, stride: Int = 1, padding: Padding = .valid) -> Variable<S> {
    let x = input.value, w = filter.value
    let y = conv2D(x, filter: w, bias: bias?.value, stride: stride, padding: padding)
    let biasShape = bias?.value.shape
    let sources = bias.map { [input, filter, $0] } ?? [input, filter]
    return Variable(y, derivedFrom: sources) { dy, needs in
        var gradients: [Tensor<S>?] = [
            needs[0] ? conv2DBackwardInput(dy, filter: w, inputShape: x.shape, stride: stride, padding: padding) : nil,
            needs[1] ? conv2DBackwardFilter(dy, input: x, filterShape: w.shape, stride: stride, padding: padding) : nil,
        ]
        if let biasShape {
            gradients.append(needs[2] ? channelSums(dy, shape: biasShape) : nil)
        }
        return gradients
    }
}

/// ``maxPool2D(_:size:stride:padding:)-(Tensor<S>,_,_,_)`` recorded on the
/// tape; `ties` picks which tied maxima receive the gradient (the notes' rule by default).
@_specialize(where S == Float)
@_specialize(where S == Double)
public func maxPool2D<S>(_ input: Variable<S>, size: Int, stride: Int? = nil, padding: Padding = .valid,
                         ties: MaxPoolingTies = .allMaxima) -> Variable<S> {
    let x = input.value
    let y = maxPool2D(x, size: size, stride: stride, padding: padding)
    return Variable(y, derivedFrom: [input]) { dy, _ in
        [maxPool2DBackward(dy, input: x, output: y, size: size, stride: stride, padding: padding, ties: ties)]
    }
}

/// ``averagePool2D(_:size:stride:padding:)-(Tensor<S>,_,_,_)`` recorded on the tape.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func averagePool2D<S>(_ input: Variable<S>, size: Int, stride: Int? = nil, padding: Padding = .valid) -> Variable<S> {
    let shape = input.value.shape
    return Variable(averagePool2D(input.value, size: size, stride: stride, padding: padding), derivedFrom: [input]) { dy, _ in
        [averagePool2DBackward(dy, inputShape: shape, size: size, stride: stride, padding: padding)]
    }
}

/// ``depthwiseConv2D(_:filter:bias:stride:padding:)-(Tensor<S>,_,_,_,_)`` recorded on the tape:
/// `dA_prev[·, ·, ·, c] += W[a, b, c]·dZ[·, ·, ·, c]`, `dW[a, b, c] = Σ a_slice·dZ`, `db = Σ dZ`.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func depthwiseConv2D<S>(_ input: Variable<S>, filter: Variable<S>, bias: Variable<S>? = nil, stride: Int = 1, padding: Padding = .valid) -> Variable<S> {
    let x = input.value, w = filter.value
    let y = depthwiseConv2D(x, filter: w, bias: bias?.value, stride: stride, padding: padding)
    let biasShape = bias?.value.shape
    return Variable(y, derivedFrom: bias.map { [input, filter, $0] } ?? [input, filter]) { dy, needs in
        let (dx, dw) = depthwiseConv2DBackward(dy, input: x, filter: w, stride: stride, padding: padding, wantInput: needs[0], wantFilter: needs[1])
        var gradients: [Tensor<S>?] = [dx, dw]
        if let biasShape {
            gradients.append(needs[2] ? channelSums(dy, shape: biasShape) : nil)
        }
        return gradients
    }
}

/// ``convTranspose2D(_:filter:bias:stride:padding:outputPadding:)-(Tensor<S>,_,_,_,_,_)`` recorded on the tape:
/// `dX = conv2D(dY, W)` and `dW = conv2DBackwardFilter(X, dY)` — the transposed
/// convolution is conv2D's input gradient, so its own gradients are conv2D and its filter gradient.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func convTranspose2D<S>(
    _ input: Variable<S>, filter: Variable<S>, bias: Variable<S>? = nil, stride: Int = 1, padding: Padding = .valid, outputPadding: Int = 0
) -> Variable<S> {
    let x = input.value, w = filter.value
    let g = transposedGeometry(input: x.shape, filter: w.shape, stride: stride, padding: padding, outputPadding: outputPadding,
                               operation: "convTranspose2D")
    let y = convTranspose2D(x, filter: w, bias: bias?.value, stride: stride, padding: padding, outputPadding: outputPadding)
    let biasShape = bias?.value.shape
    return Variable(y, derivedFrom: bias.map { [input, filter, $0] } ?? [input, filter]) { dy, needs in
        var gradients: [Tensor<S>?] = [
            needs[0] ? conv2D(dy, filter: w, bias: nil, geometry: g) : nil,
            needs[1] ? conv2DBackwardFilter(x, input: dy, geometry: g) : nil,
        ]
        if let biasShape {
            gradients.append(needs[2] ? channelSums(dy, shape: biasShape) : nil)
        }
        return gradients
    }
}

/// ``conv1D(_:filter:bias:stride:padding:)-(Tensor<S>,_,_,_,_)`` recorded on the tape (the 2-D rule on a one-row image).
@_specialize(where S == Float)
@_specialize(where S == Double)
public func conv1D<S>(_ input: Variable<S>, filter: Variable<S>, bias: Variable<S>? = nil, stride: Int = 1, padding: Padding = .valid) -> Variable<S> {
    let g = oneDimensionalGeometry(input: input.shape, filter: filter.shape, stride: stride, padding: padding, operation: "conv1D")
    let x = input.value.reshaped(to: [g.batch, 1, g.width, g.channels]), w = filter.value.reshaped(to: g.filterShape)
    let (inputShape, filterShape) = (input.shape, filter.shape)
    let y = conv2D(x, filter: w, bias: bias?.value, geometry: g)
    let biasShape = bias?.value.shape
    return Variable(y.reshaped(to: [g.batch, g.outWidth, g.filters]), derivedFrom: bias.map { [input, filter, $0] } ?? [input, filter]) { dy, needs in
        let dz = dy.reshaped(to: g.outputShape)
        var gradients: [Tensor<S>?] = [
            needs[0] ? conv2DBackwardInput(dz, filter: w, geometry: g).reshaped(to: inputShape) : nil,
            needs[1] ? conv2DBackwardFilter(dz, input: x, geometry: g).reshaped(to: filterShape) : nil,
        ]
        if let biasShape {
            gradients.append(needs[2] ? channelSums(dy, shape: biasShape) : nil)
        }
        return gradients
    }
}

/// ``conv3D(_:filter:bias:stride:padding:)-(Tensor<S>,_,_,_,_)`` recorded on the tape.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func conv3D<S>(_ input: Variable<S>, filter: Variable<S>, bias: Variable<S>? = nil, stride: Int = 1, padding: Padding = .valid) -> Variable<S> {
    let x = input.value, w = filter.value
    let y = conv3D(x, filter: w, bias: bias?.value, stride: stride, padding: padding)
    let biasShape = bias?.value.shape
    return Variable(y, derivedFrom: bias.map { [input, filter, $0] } ?? [input, filter]) { dy, needs in
        var gradients: [Tensor<S>?] = [nil, nil]
        if needs[0] || needs[1] {
            let (dx, dw) = conv3DBackward(dy, input: x, filter: w, stride: stride, padding: padding)
            gradients = [needs[0] ? dx : nil, needs[1] ? dw : nil]
        }
        if let biasShape {
            gradients.append(needs[2] ? channelSums(dy, shape: biasShape) : nil)
        }
        return gradients
    }
}

/// `db`: the output gradient summed over every axis but the last (the
/// channels, in every channels-last layout), in the bias's shape.
func channelSums<S>(_ dy: Tensor<S>, shape: [Int]) -> Tensor<S> {
    dy.reshaped(to: [-1, dy.shape[dy.rank - 1]]).sum(axis: 0).reshaped(to: shape)
}
