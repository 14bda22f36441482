import Tensors
let x = Tensor<Double>([0.5, 1, 2, 700, -700, 1e-310])
print(exp(x))
print(log(x))
print(tanh(x))
print(sigmoid(x))
