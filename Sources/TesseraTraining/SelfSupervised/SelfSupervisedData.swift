import TesseraData
import TesseraNN
import TesseraSelfSupervised
import TesseraTensor

/// The digits as the self-supervised recipes see them (pixels in [0, 1]): the training images
/// (pretrained on without their labels), the stratified `labelFraction` of them whose labels the
/// downstream uses see, and the held-out test images.
struct SelfSupervisedData {
    let train: TensorDataset
    let labelled: TensorDataset
    let test: TensorDataset

    init(_ section: SelfSupervisedDataSection, seed: UInt64) throws {
        let split = try Digits.split(layout: .image, testFraction: section.testFraction, seed: seed)
        train = split.train
        test = split.test
        labelled = section.labelFraction >= 1 ? train : train.split(testFraction: section.labelFraction, seed: seed &+ 1).test
    }

    /// What the notes' downstream uses make of a representation, with only the labelled share of
    /// the labels: a linear probe and a kNN classifier (Wu et al.'s weighted vote, k 20, τ 0.07)
    /// scored on the test images, k-means on the test representations scored by NMI and ARI
    /// against the classes, and the representation's effective rank and per-dimension spread.
    func representationMetrics(_ represent: (Tensor) -> Tensor) throws -> [String: Double] {
        let labelledFeatures = withoutGradients { represent(labelled.inputs) }
        let testFeatures = withoutGradients { represent(test.inputs) }
        let probe = try LinearProbe.fit(features: labelledFeatures, labels: labelled.labels, classCount: Digits.classCount)
        let neighbours = try NearestNeighbourClassifier(features: labelledFeatures, labels: labelled.labels, neighbourCount: 20,
                                                        vote: .similarityWeighted(temperature: 0.07))
        let clusters = try KMeans.fit(testFeatures, clusterCount: Digits.classCount, restarts: 3, seed: 0)
        let deviations = CollapseMonitor.standardDeviations(of: testFeatures)
        return [
            "probe_accuracy": try probe.accuracy(features: testFeatures, labels: test.labels),
            "knn_accuracy": try neighbours.accuracy(features: testFeatures, labels: test.labels),
            "kmeans_nmi": try ClusteringScores.normalizedMutualInformation(clusters.assignments, test.labels),
            "kmeans_ari": try ClusteringScores.adjustedRandIndex(clusters.assignments, test.labels),
            "effective_rank": CollapseMonitor.effectiveRank(of: testFeatures),
            "feature_std": deviations.reduce(0) { $0 + Double($1) } / Double(max(deviations.count, 1)),
        ]
    }
}

/// The encoder a recipe names, from images of `inputChannels × side × side` (the 1×8×8 digits by
/// default) to `representationSize` features: an MLP on the flattened image, or blocks of (3×3
/// convolution, ReLU, 2×2 max pool) then a linear layer and a ReLU.
func makeEncoder(_ section: EncoderSection, inputChannels: Int = 1, side inputSide: Int = 8,
                 generator: inout RandomGenerator) -> any Layer {
    switch section.kind {
    case .mlp:
        return Sequential(Flatten(), MLP(sizes: [inputChannels * inputSide * inputSide] + section.hiddenSizes + [section.representationSize],
                                         generator: &generator))
    case .cnn:
        var layers: [any Layer] = []
        var (channels, side) = (inputChannels, inputSide)
        for width in section.channels {
            layers += [Conv2d(channels, width, kernelSize: 3, padding: 1, generator: &generator), ReLU(), MaxPool2d(kernelSize: 2)]
            (channels, side) = (width, side / 2)
        }
        layers += [Flatten(), Linear(channels * side * side, section.representationSize, generator: &generator), ReLU()]
        return Sequential(layers: layers)
    }
}

/// The views of each sample as the recipe's `views` section describes them, at the digits' 8×8.
func viewSettings(_ section: ViewSection, size: Int = 8, scale: [Float]? = nil) -> ViewSettings {
    let range = scale ?? section.scale
    var settings = ViewSettings(height: size, width: size, scale: range[0]...range[1])
    settings.rotationDegrees = section.rotationDegrees
    settings.brightness = section.brightness
    settings.contrast = section.contrast
    settings.noiseStandardDeviation = section.noise
    settings.cutoutSize = section.cutoutSize
    settings.flipProbability = section.flipProbability
    return settings
}
