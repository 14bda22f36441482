// Backward rules of convolution and pooling (C4W1's conv_backward and pool_backward):
//
//   Z = conv2D(A_prev, W) + b   dA_prev = conv2DBackwardInput(dZ, W)    (each dZ[i,h,w,c] adds W[:,:,:,c]·dZ into its slice)
//                               dW      = conv2DBackwardFilter(dZ, A_prev)   (Σ a_slice·dZ[i,h,w,c])
//                               db      = Σ_{i,h,w} dZ[i,h,w,:]
//   A = maxPool2D(A_prev)       dA_prev = dA routed to each window's maximum (tie rule: MaxPoolingTies)
//   A = averagePool2D(A_prev)   dA_prev = dA/f² spread over each window

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
            gradients.append(needs[2] ? dy.reshaped(to: [-1, dy.shape[3]]).sum(axis: 0).reshaped(to: biasShape) : nil)
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
