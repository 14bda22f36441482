// Backward rule of the elementwise choice `y = select(c, a, b)`: the gradient
// goes to the operand that was chosen, and the condition is a constant.
//
//   da = g·[c ≠ 0]     db = g·[c = 0]     (each summed back to its operand's shape)

/// `a` where `condition` is nonzero, `b` elsewhere (see ``select(_:_:_:)-(Tensor<S>,_,_)``),
/// recorded on the tape; `condition` is a constant.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func select<S>(_ condition: Tensor<S>, _ a: Variable<S>, _ b: Variable<S>) -> Variable<S> {
    let shapeA = a.value.shape, shapeB = b.value.shape
    return Variable(select(condition, a.value, b.value), derivedFrom: [a, b]) { g, needs in
        let zero = Tensor<S>(0)
        return [needs[0] ? select(condition, g, zero).summed(toShape: shapeA) : nil,
                needs[1] ? select(condition, zero, g).summed(toShape: shapeB) : nil]
    }
}
