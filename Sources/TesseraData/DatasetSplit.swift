import TesseraTensor

/// A train/test partition of a data set: disjoint index lists (sorted) and the copied subsets.
public struct DatasetSplit {
    public let trainIndices: [Int]
    public let testIndices: [Int]
    public let train: TensorDataset
    public let test: TensorDataset
}

extension TensorDataset {
    /// Splits the examples into train and test sets, fixed by `seed`.
    ///
    /// Stratified (the default) splits each class separately — the class whose label is the
    /// k-th smallest distinct value is shuffled by `RandomGenerator(seed:).derived(stream: k)`
    /// and its first `round(classCount × testFraction)` examples go to test — so both sides keep
    /// the class proportions (as scikit-learn's `train_test_split(stratify=…)`). Plain splitting
    /// shuffles all examples with `RandomGenerator(seed:)` and takes the first
    /// `round(count × testFraction)`. Stratifying needs labels of shape `[N]`.
    public func split(testFraction: Double, seed: UInt64, stratified: Bool = true) -> DatasetSplit {
        precondition(testFraction >= 0 && testFraction <= 1,
                     "Tessera TensorDataset.split: testFraction must be in 0...1, got \(testFraction)")
        var testIndices: [Int] = []
        if stratified {
            precondition(labels.rank == 1, "Tessera TensorDataset.split: stratifying needs labels [N], got \(labels.shape)")
            let byClass = Dictionary(grouping: 0..<count, by: { labels.storage.pointer[$0] })
            for (classNumber, label) in byClass.keys.sorted().enumerated() {
                let members = byClass[label]!
                var generator = RandomGenerator(seed: seed).derived(stream: UInt64(classNumber))
                let order = generator.permutation(members.count)
                let testCount = Int((Double(members.count) * testFraction).rounded())
                testIndices += order.prefix(testCount).map { members[$0] }
            }
        } else {
            var generator = RandomGenerator(seed: seed)
            testIndices = Array(generator.permutation(count).prefix(Int((Double(count) * testFraction).rounded())))
        }
        testIndices.sort()
        let isTest = Set(testIndices)
        let trainIndices = (0..<count).filter { !isTest.contains($0) }
        return DatasetSplit(trainIndices: trainIndices, testIndices: testIndices,
                            train: subset(trainIndices), test: subset(testIndices))
    }
}
