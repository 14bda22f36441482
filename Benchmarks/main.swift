import Tensors
print(Tensor<Float>([[1, 2, 3], [4, 5, 6]]) + Tensor<Float>([100, 200, 300]))
