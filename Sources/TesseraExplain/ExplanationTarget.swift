import TesseraNN
import TesseraTensor

/// Which output an explanation is of.
public enum ExplanationTarget {
    /// The same output (class) for every row.
    case output(Int)
    /// One output per row.
    case outputs([Int])
    /// A relevance (or, for gradients, a seed) shaped like the output, given directly: several
    /// outputs at once, a contrast between classes, an embedding's coordinates.
    case relevance(Tensor)

    /// `[N, K]` with a 1 at each row's target (or the given relevance, checked against `output`).
    public func mask(for output: Tensor) throws -> Tensor {
        let indices: [Int]
        switch self {
        case .relevance(let relevance):
            guard relevance.shape == output.shape else { throw ExplainError.relevanceShape(expected: output.shape, got: relevance.shape) }
            return relevance
        case .output(let index):
            guard output.rank == 2 else { throw ExplainError.outputNotRankTwo(shape: output.shape) }
            indices = Array(repeating: index, count: output.shape[0])
        case .outputs(let given):
            guard output.rank == 2 else { throw ExplainError.outputNotRankTwo(shape: output.shape) }
            guard given.count == output.shape[0] else { throw ExplainError.targetCount(expected: output.shape[0], got: given.count) }
            indices = given
        }
        let outputCount = output.shape[1]
        if let bad = indices.first(where: { !(0..<outputCount).contains($0) }) {
            throw ExplainError.targetOutOfRange(index: bad, outputCount: outputCount)
        }
        return Tensor(indices.map(Float.init)).oneHot(classes: outputCount)
    }

    /// The relevance LRP starts from: the target outputs' values, `f_c(x)` (Montavon et al. 2019,
    /// Sect. 10.2), zero elsewhere; a given relevance as it is.
    public func startingRelevance(for output: Tensor) throws -> Tensor {
        if case .relevance = self { return try mask(for: output) }
        return try mask(for: output) * output
    }
}

// MARK: - Evaluation mode

/// The modules whose forward pass depends on the mode (dropout, batch norm) inside `layers`.
func modeDependentModules(in layers: [any Layer]) -> [any ModeDependentModule] {
    var seen: Set<ObjectIdentifier> = []
    return layers.flatMap { $0.namedModules() }.compactMap { entry in
        guard let module = entry.module as? any ModeDependentModule, seen.insert(ObjectIdentifier(module)).inserted else { return nil }
        return module
    }
}

/// Runs `body` with every module in evaluation mode (explanations are of the deployed model: no
/// dropout, batch norm with running statistics), then restores each module's mode.
func withEvaluationMode<Result>(_ modules: [any ModeDependentModule], _ body: () throws -> Result) rethrows -> Result {
    let saved = modules.map(\.mode)
    for module in modules { module.mode = .evaluation }
    defer { for (module, mode) in zip(modules, saved) { module.mode = mode } }
    return try body()
}
