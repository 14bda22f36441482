import Tensors

/// Classification metrics (C3W1-03) on predictions `(n_y, m)` and targets of the same shape.
public enum Metrics {
    /// Predicted labels: `ŷ > 0.5` for one output row, else the argmax of each column.
    public static func labels<S>(_ prediction: Tensor<S>) -> [Int] {
        if prediction.shape[0] == 1 { return prediction.scalars.map { $0 > 0.5 ? 1 : 0 } }
        return prediction.argmax(axis: 0).scalars
    }

    /// The fraction of columns whose predicted label matches the target's.
    public static func accuracy<S>(_ prediction: Tensor<S>, _ target: Tensor<S>) -> Double {
        let p = labels(prediction), t = labels(target)
        return Double(zip(p, t).filter { $0 == $1 }.count) / Double(Swift.max(p.count, 1))
    }

    /// `counts[actual][predicted]` for `classes` classes.
    public static func confusionMatrix(predicted: [Int], actual: [Int], classes: Int) -> [[Int]] {
        var counts = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        for (p, a) in zip(predicted, actual) { counts[a][p] += 1 }
        return counts
    }

    /// Precision `TP/(TP + FP)`, recall `TP/(TP + FN)` and `F1 = 2PR/(P + R)` of class `positive`.
    public static func precisionRecallF1(predicted: [Int], actual: [Int], positive: Int = 1) -> (precision: Double, recall: Double, f1: Double) {
        let tp = Double(zip(predicted, actual).filter { $0 == positive && $1 == positive }.count)
        let fp = Double(zip(predicted, actual).filter { $0 == positive && $1 != positive }.count)
        let fn = Double(zip(predicted, actual).filter { $0 != positive && $1 == positive }.count)
        let precision = tp + fp == 0 ? 0 : tp / (tp + fp)
        let recall = tp + fn == 0 ? 0 : tp / (tp + fn)
        return (precision, recall, f1(precision: precision, recall: recall))
    }

    /// `F1 = 2PR/(P + R)`, the harmonic mean (0 when both are 0).
    public static func f1(precision: Double, recall: Double) -> Double {
        precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
    }
}
