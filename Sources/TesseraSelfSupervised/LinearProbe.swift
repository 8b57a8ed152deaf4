import Foundation
import TesseraTensor

/// The linear probe: multinomial logistic regression on frozen features `[N, d]`, the standard
/// measure of a self-supervised representation (Zhang, Isola & Efros 2016, "Colorful Image
/// Colorization"; the linear evaluation protocol of SimCLR, Chen et al. 2020).
/// "Logistic regression on raw pixels" is this probe on the flattened images.
///
/// The features are standardised with the training set's mean and (population) standard
/// deviation — a constant feature keeps scale 1, as scikit-learn's `StandardScaler` — and the
/// weights `W` `[d, C]` and bias `b` `[C]` minimise
///
///     (1/N) Σᵢ −log softmax(xᵢ W + b)[yᵢ]  +  ‖W‖² / (2 C N)
///
/// which has the same minimiser as scikit-learn's `LogisticRegression(C=C)` objective
/// `C Σᵢ CEᵢ + ½‖W‖²` (the bias is not penalised). It is minimised full-batch in double precision
/// by L-BFGS (Nocedal 1980, "Updating quasi-Newton matrices with limited storage"; the two-loop
/// recursion of Nocedal & Wright 2006, Alg. 7.4) with a backtracking Armijo line search, from
/// zero, so a fit is deterministic.
///
/// ```swift
/// let probe = try LinearProbe.fit(features: trainFeatures, labels: trainLabels, classCount: 10)
/// let accuracy = try probe.accuracy(features: testFeatures, labels: testLabels)
/// ```
public struct LinearProbe {
    /// How the probe is fitted.
    public struct Configuration: Sendable {
        /// Inverse regularisation strength (scikit-learn's `C`): larger fits the training set harder.
        public var inverseRegularization: Double = 1
        /// Stop when the largest gradient component of the mean objective is below this.
        public var tolerance: Double = 1e-6
        /// Fitting throws if L-BFGS has not reached `tolerance` after this many iterations.
        public var maximumIterations: Int = 2000
        /// Number of recent steps L-BFGS remembers (10 as in scikit-learn's and SciPy's default).
        public var historySize: Int = 10

        public init(inverseRegularization: Double = 1, tolerance: Double = 1e-6, maximumIterations: Int = 2000, historySize: Int = 10) {
            self.inverseRegularization = inverseRegularization
            self.tolerance = tolerance
            self.maximumIterations = maximumIterations
            self.historySize = historySize
        }
    }

    /// The training features' column means `[d]`.
    public let mean: Tensor
    /// The training features' column standard deviations `[d]` (1 for constant columns).
    public let scale: Tensor
    /// Weights `[d, C]` on the standardised features.
    public let weights: Tensor
    /// Bias `[C]`.
    public let bias: Tensor
    /// L-BFGS iterations the fit took.
    public let iterations: Int

    /// Fits the probe; `labels` `[N]` are whole numbers in `0..<classCount`, each class present.
    public static func fit(features: Tensor, labels: Tensor, classCount: Int,
                           configuration: Configuration = Configuration()) throws -> LinearProbe {
        let data = try FeatureMatrix(features, name: "probe features")
        let targets = try classLabels(labels, count: data.rowCount, name: "probe labels")
        guard classCount >= 2 else { throw SelfSupervisedError("probe classCount must be ≥ 2, got \(classCount)") }
        if let outside = targets.first(where: { $0 >= classCount }) {
            throw SelfSupervisedError("probe label \(outside) is outside 0..<\(classCount) (classCount)")
        }
        let present = Set(targets)
        if let empty = (0..<classCount).first(where: { !present.contains($0) }) {
            throw SelfSupervisedError("probe class \(empty) has no training example; every class in 0..<\(classCount) needs one")
        }
        guard configuration.inverseRegularization > 0 else {
            throw SelfSupervisedError("probe inverseRegularization must be > 0, got \(configuration.inverseRegularization)")
        }
        let n = data.rowCount, d = data.columnCount
        var mean = [Double](repeating: 0, count: d), scale = [Double](repeating: 0, count: d)
        for row in 0..<n { for column in 0..<d { mean[column] += Double(data.values[row * d + column]) / Double(n) } }
        for row in 0..<n { for column in 0..<d { scale[column] += pow(Double(data.values[row * d + column]) - mean[column], 2) / Double(n) } }
        scale = scale.map { $0 > 0 ? $0.squareRoot() : 1 }
        let x = (0..<(n * d)).map { (Double(data.values[$0]) - mean[$0 % d]) / scale[$0 % d] }
        let penalty = 1 / (configuration.inverseRegularization * Double(n))
        let (parameters, iterations) = try minimiseWithLBFGS(start: [Double](repeating: 0, count: (d + 1) * classCount),
                                                             configuration: configuration) { parameters in
            softmaxObjective(parameters, x: x, targets: targets, features: d, classes: classCount, penalty: penalty)
        }
        return LinearProbe(mean: Tensor(mean.map(Float.init)), scale: Tensor(scale.map(Float.init)),
                           weights: Tensor(shape: [d, classCount], scalars: parameters[0..<(d * classCount)].map(Float.init)),
                           bias: Tensor(parameters[(d * classCount)...].map(Float.init)), iterations: iterations)
    }

    /// The class probabilities `[M, C]` of each row of `features` `[M, d]`.
    public func probabilities(_ features: Tensor) throws -> Tensor {
        let data = try FeatureMatrix(features, name: "probe features")
        try data.requireColumns(mean.count, of: "the probe")
        return withoutGradients {
            let standardised = (Tensor(shape: [data.rowCount, data.columnCount], scalars: data.values) - mean.reshape([1, -1])) / scale.reshape([1, -1])
            return (standardised.matmul(weights) + bias.reshape([1, -1])).softmax(alongAxis: 1)
        }
    }

    /// The most probable class of each row, `[M]`.
    public func predict(_ features: Tensor) throws -> Tensor {
        let probabilities = try probabilities(features)
        let classes = probabilities.shape[1], values = probabilities.scalars
        return Tensor((0..<probabilities.shape[0]).map { row in
            Float(largestIndices(values[(row * classes)..<((row + 1) * classes)], count: 1)[0])
        })
    }

    /// The fraction of rows whose predicted class equals `labels`.
    public func accuracy(features: Tensor, labels: Tensor) throws -> Double {
        let predictions = try predict(features).scalars
        let truth = try classLabels(labels, count: predictions.count, name: "probe test labels")
        return Double(zip(predictions, truth).filter { Int($0) == $1 }.count) / Double(truth.count)
    }
}

/// The mean cross-entropy plus `penalty/2 · ‖W‖²` and its gradient, for parameters laid out as
/// `W` `[features, classes]` row-major followed by `b` `[classes]`.
private func softmaxObjective(_ parameters: [Double], x: [Double], targets: [Int], features d: Int, classes: Int,
                              penalty: Double) -> (value: Double, gradient: [Double]) {
    let n = targets.count
    var gradient = [Double](repeating: 0, count: parameters.count)
    var value = 0.0
    var logits = [Double](repeating: 0, count: classes)
    for row in 0..<n {
        for c in 0..<classes { logits[c] = parameters[d * classes + c] }
        for j in 0..<d where x[row * d + j] != 0 {
            let feature = x[row * d + j]
            for c in 0..<classes { logits[c] += feature * parameters[j * classes + c] }
        }
        let largest = logits.max()!
        let total = logits.reduce(0) { $0 + exp($1 - largest) }
        value += (largest + log(total) - logits[targets[row]]) / Double(n)
        for c in 0..<classes {
            let residual = (exp(logits[c] - largest) / total - (c == targets[row] ? 1 : 0)) / Double(n)
            gradient[d * classes + c] += residual
            for j in 0..<d { gradient[j * classes + c] += residual * x[row * d + j] }
        }
    }
    for i in 0..<(d * classes) {
        value += 0.5 * penalty * parameters[i] * parameters[i]
        gradient[i] += penalty * parameters[i]
    }
    return (value, gradient)
}

/// L-BFGS from `start` until the largest gradient component is below the tolerance; returns the
/// minimiser and the iteration count, or throws after `maximumIterations`.
private func minimiseWithLBFGS(start: [Double], configuration: LinearProbe.Configuration,
                               objective: ([Double]) -> (value: Double, gradient: [Double])) throws -> ([Double], Int) {
    func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
    var x = start
    var (value, gradient) = objective(x)
    var steps: [[Double]] = [], gradientChanges: [[Double]] = []
    for iteration in 0..<configuration.maximumIterations {
        if gradient.map(abs).max()! < configuration.tolerance { return (x, iteration) }
        // Two-loop recursion: direction = −H·g with H the limited-memory inverse Hessian.
        var direction = gradient.map { -$0 }
        var alphas: [Double] = []
        for (s, y) in zip(steps, gradientChanges).reversed() {
            let alpha = dot(s, direction) / dot(y, s)
            alphas.append(alpha)
            for i in direction.indices { direction[i] -= alpha * y[i] }
        }
        if let s = steps.last, let y = gradientChanges.last {
            let gamma = dot(s, y) / dot(y, y)
            for i in direction.indices { direction[i] *= gamma }
        }
        for ((s, y), alpha) in zip(zip(steps, gradientChanges), alphas.reversed()) {
            let beta = dot(y, direction) / dot(y, s)
            for i in direction.indices { direction[i] += (alpha - beta) * s[i] }
        }
        var slope = dot(direction, gradient)
        if slope >= 0 {  // not a descent direction (rounding): restart from steepest descent
            direction = gradient.map { -$0 }
            slope = dot(direction, gradient)
            steps.removeAll()
            gradientChanges.removeAll()
        }
        // The first step has no curvature yet: scale it to unit length.
        var stepLength = steps.isEmpty ? min(1, 1 / dot(gradient, gradient).squareRoot()) : 1
        var candidate = x, candidateValue = value, candidateGradient = gradient
        for _ in 0..<60 {
            candidate = zip(x, direction).map { $0 + stepLength * $1 }
            (candidateValue, candidateGradient) = objective(candidate)
            if candidateValue <= value + 1e-4 * stepLength * slope { break }
            stepLength /= 2
        }
        let s = zip(candidate, x).map { $0 - $1 }, y = zip(candidateGradient, gradient).map { $0 - $1 }
        if dot(s, y) > 1e-12 * dot(y, y) {  // keep the update only where the curvature is positive
            steps.append(s)
            gradientChanges.append(y)
            if steps.count > configuration.historySize {
                steps.removeFirst()
                gradientChanges.removeFirst()
            }
        }
        if candidateValue >= value, s.allSatisfy({ $0 == 0 }) {
            throw SelfSupervisedError("probe L-BFGS line search made no progress at iteration \(iteration) (largest gradient \(gradient.map(abs).max()!), tolerance \(configuration.tolerance))")
        }
        (x, value, gradient) = (candidate, candidateValue, candidateGradient)
    }
    if gradient.map(abs).max()! < configuration.tolerance { return (x, configuration.maximumIterations) }
    throw SelfSupervisedError("probe did not converge in maximumIterations = \(configuration.maximumIterations) (largest gradient \(gradient.map(abs).max()!) > tolerance \(configuration.tolerance))")
}
