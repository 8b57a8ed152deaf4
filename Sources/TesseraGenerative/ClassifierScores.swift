import TesseraTensor

/// The share of rows of `logits` `[count, classes]` whose largest logit is at `labels` `[count]`
/// (the yardstick's accuracy on class-conditional samples, with the requested classes as labels).
public func classificationAccuracy(logits: Tensor, labels: [Int]) throws -> Double {
    try checkLogits(logits, op: "classificationAccuracy")
    guard labels.count == logits.shape[0] else {
        throw GenerativeError("classificationAccuracy: expected \(logits.shape[0]) labels (one per row of logits), got \(labels.count)")
    }
    let classes = logits.shape[1]
    if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
        throw GenerativeError("classificationAccuracy: label \(bad) is out of range 0..<\(classes)")
    }
    let predicted = withoutGradients { logits.argmax(alongAxis: 1) }.scalars
    let correct = zip(predicted, labels).filter { Int($0.0) == $0.1 }.count
    return Double(correct) / Double(labels.count)
}

/// The mean over rows of the largest softmax probability of `logits` `[count, classes]`: how sure
/// the classifier is of the generated samples, whichever class it sees in them.
public func meanConfidence(logits: Tensor) throws -> Double {
    try checkLogits(logits, op: "meanConfidence")
    let probabilities = withoutGradients { logits.softmax(alongAxis: 1).max(alongAxes: [1]) }.scalars
    return probabilities.reduce(0) { $0 + Double($1) } / Double(probabilities.count)
}

private func checkLogits(_ logits: Tensor, op: String) throws {
    guard logits.rank == 2, logits.shape[0] > 0, logits.shape[1] > 0 else {
        throw GenerativeError("\(op): expected logits [count > 0, classes > 0], got shape \(logits.shape)")
    }
    guard logits.allFinite else { throw GenerativeError("\(op): the logits hold NaN or infinity") }
}
