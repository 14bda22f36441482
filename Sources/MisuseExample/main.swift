import Tensors

// misuse add|matmul|axis — makes one invalid call so that a test can check what
// a user sees in an optimized build: the process must stop with a message that
// names the operation and the shapes (`fatalError` keeps its text under -O,
// `precondition` does not).

let a = Tensor<Float>.zeros([2, 3])
switch CommandLine.arguments.dropFirst().first {
case "add": print(a + Tensor<Float>.zeros([4]))
case "matmul": print(matmul(a, Tensor<Float>.zeros([4, 5])))
case "axis": print(a.sum(axis: 2))
default: print("usage: misuse add|matmul|axis")
}
