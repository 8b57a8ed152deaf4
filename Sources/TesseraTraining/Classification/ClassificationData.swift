import Foundation
import TesseraData
import TesseraTensor

/// The train and test sets a classification recipe names, with what the model needs to know.
public struct ClassificationData {
    public let train: TensorDataset
    public let test: TensorDataset
    /// Shape of one input (`[64]`, `[1, 8, 8]`, `[2]` …).
    public let inputShape: [Int]
    public let classCount: Int

    /// Loads or generates the data set; the held-out split is fixed by `seed`.
    public init(_ section: DataSection, seed: UInt64, recipeFile: String) throws {
        var generator = RandomGenerator(seed: seed).derived(stream: RandomStreams.data)
        let all: TensorDataset
        switch section.dataset {
        case .digits:
            all = try Digits.load(layout: section.layout == .image ? .image : .flat)
        case .moons:
            all = SyntheticPoints.moons(count: section.count, noise: section.noise, generator: &generator)
        case .circles:
            all = SyntheticPoints.circles(count: section.count, noise: section.noise, generator: &generator)
        case .spirals:
            all = SyntheticPoints.spirals(count: section.count, noise: section.noise, generator: &generator)
        case .gaussians:
            all = SyntheticPoints.gaussianMixture(count: section.count, generator: &generator)
        case .checkerboard:
            all = SyntheticPoints.checkerboard(count: section.count, generator: &generator)
        case .csv:
            let url = Self.resolve(section.path!, relativeTo: recipeFile)
            all = try CSVReader.read(contentsOf: url, hasHeader: section.hasHeader, labelColumn: section.labelColumn).dataset
        case .idx:
            all = try IDXReader.dataset(images: Self.resolve(section.path!, relativeTo: recipeFile),
                                        labels: Self.resolve(section.labelsPath!, relativeTo: recipeFile))
        case .npy:
            let inputs = try NumpyReader.read(contentsOf: Self.resolve(section.path!, relativeTo: recipeFile))
            let labels = try NumpyReader.read(contentsOf: Self.resolve(section.labelsPath!, relativeTo: recipeFile))
            guard inputs.rank >= 1, labels.rank == 1, inputs.shape[0] == labels.shape[0] else {
                throw TrainingError("\(section.path!) and \(section.labelsPath!): inputs of shape \(inputs.shape) need one label each, labels have shape \(labels.shape)")
            }
            all = TensorDataset(inputs: inputs, labels: labels)
        }
        try self.init(all: all, testFraction: section.testFraction, seed: seed, source: section.path ?? section.dataset.rawValue)
    }

    /// Splits `all` into stratified train and test sets and checks the labels are class indices.
    public init(all: TensorDataset, testFraction: Double, seed: UInt64, source: String) throws {
        guard all.labels.rank == 1 else {
            throw TrainingError("\(source): classification needs one class index per example, labels have shape \(all.labels.shape)")
        }
        let labels = all.labels.scalars
        if let invalid = labels.first(where: { $0 < 0 || $0 != $0.rounded() }) {
            throw TrainingError("\(source): class labels must be whole numbers ≥ 0, found \(invalid)")
        }
        classCount = Int(labels.max() ?? 0) + 1
        guard all.count >= 2, classCount >= 2 else {
            throw TrainingError("\(source): needs at least 2 examples and 2 classes, found \(all.count) examples and \(classCount) classes")
        }
        let split = all.split(testFraction: testFraction, seed: seed)
        train = split.train
        test = split.test
        inputShape = all.inputShape
    }

    /// A relative data path is taken relative to the recipe's directory, then to the working directory.
    static func resolve(_ path: String, relativeTo recipeFile: String) -> URL {
        if path.hasPrefix("/") { return URL(fileURLWithPath: path) }
        let besideRecipe = URL(fileURLWithPath: recipeFile).deletingLastPathComponent().appendingPathComponent(path)
        return FileManager.default.fileExists(atPath: besideRecipe.path) ? besideRecipe : URL(fileURLWithPath: path)
    }
}

