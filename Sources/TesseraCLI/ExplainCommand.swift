import ArgumentParser
import Foundation
import TesseraTraining

/// `tessera explain CHECKPOINT --input INDEX|FILE --method lrp --composite epsilon-gamma-box --output heatmap.png`:
/// the relevance of every input feature for a class, drawn as a heatmap and written as `.npy`.
/// With `--faithfulness`, pixel-flipping curves of every method instead.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain a trained classifier's decision: relevance heatmaps by LRP or gradients.",
        discussion: """
        The checkpoint's stored recipe rebuilds the model and its held-out data. --input takes an index \
        into the held-out set or a .npy file of one input. The heatmap (red: for the class, blue: against) \
        goes to --output, the raw relevances beside it as .npy. Methods: \(ExplainMethod.names.joined(separator: ", ")).
        """)

    @Argument(help: "A training checkpoint (.tsr) of a classifier.")
    var checkpoint: String

    @Option(help: "An index into the held-out set, or a .npy file holding one input.")
    var input: String?

    @Option(help: "lrp, gradient, gradient-x-input, integrated-gradients or smoothgrad.")
    var method = "lrp"

    @Option(help: "The LRP composite: epsilon-gamma-box, epsilon-plus, epsilon-alpha2-beta1 or zero.")
    var composite = "epsilon-gamma-box"

    @Option(help: "The class to explain (default: the predicted class).")
    var target: Int?

    @Option(help: "The heatmap PNG (relevances go beside it as .npy); with --faithfulness, the curves' chart.")
    var output = "heatmap.png"

    @Flag(help: "Measure every method's faithfulness by pixel flipping on the held-out set and print a table.")
    var faithfulness = false

    @Option(help: "With --faithfulness: how many held-out examples.")
    var examples = 200

    @Option(help: "With --faithfulness: removal steps of the perturbation curve.")
    var steps = 16

    @Option(help: "With --faithfulness: what removed features become, noise (uniform over the data's range) or zero.")
    var removal = "noise"

    func run() throws {
        let subject = try loadExplainSubject(checkpoint: checkpoint)
        if faithfulness {
            let methods = try ExplainMethod.all(composite: composite)
            guard let removal = FeatureRemoval(rawValue: removal) else {
                throw ValidationError("--removal \(removal): must be one of \(FeatureRemoval.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let rows = try subject.faithfulness(methods: methods, examples: examples, steps: steps, removal: removal)
            print(faithfulnessTable(rows))
            try faithfulnessChart(rows, title: "\(subject.summary): pixel flipping").writePNG(to: URL(fileURLWithPath: output))
            return
        }
        guard let input else { throw ValidationError("give --input INDEX (a held-out example) or --input FILE.npy") }
        let method = try ExplainMethod(parsing: self.method, composite: composite)
        let outcome = try subject.explain(ExplainRequest(input: ExplainRequest.input(parsing: input), method: method,
                                                          target: target, output: output))
        print(outcome.json(method: method))
    }
}
