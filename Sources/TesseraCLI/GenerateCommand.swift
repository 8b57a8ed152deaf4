import ArgumentParser
import Foundation
import TesseraTraining

/// `tessera generate CHECKPOINT --prompt TEXT`: continues a prompt with a trained transformer.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text (or an answer) from a transformer checkpoint.",
        discussion: """
        A corpus language model continues the prompt; an addition model reads 'a+b=' and writes the sum; \
        a sequence-to-sequence model reads a digit string and writes its output.
        """)

    @Argument(help: "A checkpoint of a language-model or sequence-to-sequence run (runs/<name>/checkpoints/…).")
    var checkpoint: String

    @Option(help: "The text to continue.")
    var prompt: String

    @Option(name: .customLong("max-tokens"), help: "Tokens to generate after the prompt (corpus models).")
    var maxTokens = 200

    @Option(help: "Sampling temperature; 0 decodes greedily.")
    var temperature: Float = 0.8

    @Option(name: .customLong("top-k"), help: "Sample only among the k most likely tokens.")
    var topK: Int?

    @Option(help: "Seed of the sampling stream.")
    var seed: UInt64 = 0

    @Option(name: .customLong("attention-map"), help: "Also write the prompt's attention (every layer and head) as a heatmap PNG (corpus models).")
    var attentionMap: String?

    func run() throws {
        print(try TransformerTasks.generate(checkpoint: checkpoint, prompt: prompt, maxTokens: maxTokens,
                                            temperature: temperature, topK: topK, seed: seed,
                                            attentionMapPath: attentionMap))
    }
}
