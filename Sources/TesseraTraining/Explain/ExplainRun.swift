import Foundation
import TesseraCheckpoint
import TesseraData
import TesseraExplain
import TesseraPicture
import TesseraTensor

/// What to explain: which input, by which method, for which output, and where the heatmap goes.
public struct ExplainRequest {
    public enum Input: Equatable {
        /// The example at this index of the recipe's held-out set.
        case example(Int)
        /// One input in a `.npy` file, shaped like one example (with or without a batch axis of 1).
        case file(String)
    }

    public var input: Input
    public var method: ExplainMethod
    /// The class explained; `nil`: the class the model predicts.
    public var target: Int?
    /// The heatmap (`.png`); the raw relevances go beside it as `.npy`.
    public var output: String

    public init(input: Input, method: ExplainMethod, target: Int? = nil, output: String) {
        self.input = input
        self.method = method
        self.target = target
        self.output = output
    }

    /// `--input INDEX|FILE`: a whole number is an index into the held-out set, anything else a file.
    public static func input(parsing text: String) -> Input {
        Int(text).map(Input.example) ?? .file(text)
    }
}

/// What ``ExplainSubject/explain(_:)`` found and wrote.
public struct ExplainOutcome {
    /// The example's class when it came from the held-out set.
    public let label: Int?
    public let predicted: Int
    public let target: Int
    /// The explained logit `f_target(x)`.
    public let targetOutput: Float
    /// The sum of the input relevances (about `targetOutput` for conservative LRP).
    public let relevanceSum: Float
    public let relevance: Tensor
    public let heatmapPath: String
    public let relevancePath: String
    /// For graph networks: the most relevant walks (node sequences, input layer first).
    public var topWalks: [(nodes: [Int], relevance: Float)] = []

    /// One JSON line for the command's output.
    public func json(method: ExplainMethod) -> String {
        let label = self.label.map(String.init) ?? "null"
        return "{\"method\":\"\(method.name)\",\"label\":\(label),\"predicted\":\(predicted),\"target\":\(target),"
            + "\"target_output\":\(targetOutput),\"relevance_sum\":\(relevanceSum),"
            + "\"heatmap\":\"\(heatmapPath)\",\"relevances\":\"\(relevancePath)\""
            + (topWalks.isEmpty ? "" : ",\"top_walks\":[" + topWalks.map { "{\"nodes\":\($0.nodes),\"relevance\":\($0.relevance)}" }.joined(separator: ",") + "]")
            + "}"
    }
}

extension FeatureExplainSubject {
    /// Explains one input as `request` says, writes the heatmap PNG and the relevances as `.npy`
    /// (same path, `.npy` in place of `.png`). Checks everything before writing anything.
    public func explain(_ request: ExplainRequest) throws -> ExplainOutcome {
        try checkOutput(request.output)
        let (input, label) = try selectInput(request.input, of: self)
        let logits = withoutGradients { model(input) }
        let predicted = Int(logits.argmax(alongAxis: 1).scalars[0])
        let target = request.target ?? predicted
        guard (0..<classCount).contains(target) else {
            throw TrainingError("--target \(target): the model has \(classCount) classes (0...\(classCount - 1))")
        }
        let relevance = try self.relevance(of: input, target: .output(target), method: request.method)
        let picture = self.picture(input: input, relevance: relevance, title: "\(summary): class \(target), \(request.method)")
        let relevancePath = String(request.output.dropLast(4)) + ".npy"
        try picture.writePNG(to: URL(fileURLWithPath: request.output))
        try writeRelevances(relevance, to: relevancePath)
        return ExplainOutcome(label: label, predicted: predicted, target: target, targetOutput: logits.scalars[target],
                              relevanceSum: relevance.scalars.reduce(0, +), relevance: relevance,
                              heatmapPath: request.output, relevancePath: relevancePath)
    }
}

/// The heatmap path must name a PNG.
func checkOutput(_ path: String) throws {
    guard path.hasSuffix(".png") else {
        throw TrainingError("--output \(path): the heatmap is a PNG; give a path ending in .png")
    }
}

/// `relevance` as a float32 `.npy` file.
func writeRelevances(_ relevance: Tensor, to path: String) throws {
    try Data(try Numpy.encodeArray(TrainingCheckpoint.entry("relevance", relevance))).write(to: URL(fileURLWithPath: path))
}

/// The input as a batch of one, and its label if it is a held-out example.
func selectInput(_ input: ExplainRequest.Input, of subject: any FeatureExplainSubject) throws -> (Tensor, Int?) {
    switch input {
    case .example(let index):
        let count = subject.examples.count
        guard (0..<count).contains(index) else {
            throw TrainingError("--input \(index): the held-out set has \(count) examples (0...\(count - 1))")
        }
        let example = subject.examples.example(at: index)
        return (example.input.reshape([1] + subject.inputShape), Int(example.label.scalars[0]))
    case .file(let path):
        guard FileManager.default.fileExists(atPath: path) else {
            throw TrainingError("--input \(path): no such file (give a held-out example's index or a .npy file)")
        }
        let tensor = try NumpyReader.read(contentsOf: URL(fileURLWithPath: path))
        let shape = subject.inputShape
        guard tensor.shape == shape || tensor.shape == [1] + shape else {
            throw TrainingError("\(path): an input of shape \(tensor.shape); the model takes one example of shape \(shape) (or [1] + \(shape))")
        }
        return (tensor.reshape([1] + shape), nil)
    }
}
