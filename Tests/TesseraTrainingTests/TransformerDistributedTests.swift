import Foundation
import Testing
import TesseraCheckpoint
import TesseraConfig
import TesseraDistributed
import TesseraTraining

/// Transformer recipes trained data-parallel: ranks as threads over `LocalCommunicator` (each
/// trains on its shard of every global batch) against one process on the full batch, exact resume
/// with several ranks, and one real `mpirun` run through `tessera train --np 2`.
@Suite(.serialized) struct TransformerDistributedTests {
    /// One tiny recipe per task, logging every step. The reversal batch of 7 splits unevenly (3 + 4
    /// rows) and its rows carry different numbers of padded tokens; the masked LM chooses a
    /// different number of tokens in every row: both need the exact token weighting.
    static let recipes: [String: String] = [
        "reverse": """
            task: sequence-to-sequence
            name: tiny-reverse
            seed: 5
            data: {source: reverse, minimumLength: 2, maximumLength: 6, batchSize: 7, evaluationExamples: 8}
            model: {layerCount: 1, headCount: 2, modelDimensions: 16, feedForwardDimensions: 32}
            optimizer: {kind: adamw, learningRate: 0.01}
            training: {steps: 4, logEvery: 1}
            """,
        "addition": """
            task: language-model
            name: tiny-addition
            seed: 6
            data: {source: addition, digits: 2, batchSize: 8, evaluationExamples: 8}
            model: {layerCount: 1, headCount: 2, modelDimensions: 16, feedForwardDimensions: 32}
            optimizer: {kind: adamw, learningRate: 0.01}
            training: {steps: 4, logEvery: 1}
            """,
        "masked-lm": """
            task: masked-language-model
            name: tiny-masked-lm
            seed: 7
            data: {source: corpus, paragraphs: 20, contextLength: 16, batchSize: 6, evaluationExamples: 8}
            model: {layerCount: 1, headCount: 2, modelDimensions: 16, feedForwardDimensions: 32}
            optimizer: {kind: adam, learningRate: 0.01}
            training: {steps: 4, logEvery: 1}
            """,
        "vit": """
            task: vision-transformer
            name: tiny-vit
            seed: 8
            data: {source: digits, batchSize: 8}
            model: {layerCount: 1, headCount: 2, modelDimensions: 16, feedForwardDimensions: 32, patchSize: 4}
            optimizer: {kind: adam, learningRate: 0.01}
            training: {steps: 4, logEvery: 1}
            """,
    ]

    static func decode(_ yaml: String, overrides: [String] = []) throws -> (recipe: TransformerRecipe, yaml: String) {
        var recipe = try Recipe(yaml: yaml, file: "tiny.yaml")
        try recipe.apply(overrides: overrides)
        return (try recipe.decode(TransformerRecipe.self), try recipe.canonicalYAML())
    }

    /// What one rank ends with: its parameters by name, its result and its run directory.
    struct RankOutcome {
        let parameters: [String: [Float]]
        let result: TrainingResult
        let directory: URL
    }

    /// Trains `yaml` with `processes` ranks, each a thread with its own trainer and directory
    /// (`directories[rank]`, or a fresh one); rank 0 alone gets `resume`, as under `mpirun`.
    static func train(_ yaml: String, processes: Int, overrides: [String] = [], directories: [URL]? = nil,
                      resume: ResumeRequest = .none) throws -> [RankOutcome] {
        let (recipe, canonical) = try decode(yaml, overrides: overrides)
        let directories = directories ?? (0..<processes).map { CommandLineTool.temporaryDirectory("tdp-rank\($0)") }
        let group = LocalCommunicator.group(size: processes)
        return try onThreads(processes) { rank in
            let collective = processes == 1 ? nil
                : CommunicatorCollective(communicator: group[rank], settings: recipe.distributed)
            let trainer = try StepTrainer(recipe: recipe, recipeYAML: canonical,
                                                 runDirectory: try RunDirectory(path: directories[rank].path),
                                                 collective: collective, showProgress: false)
            let result = try trainer.train(resume: rank == 0 ? resume : .none)
            let parameters = Dictionary(uniqueKeysWithValues: trainer.model.namedParameters().map { ($0.name, $0.parameter.scalars) })
            return RankOutcome(parameters: parameters, result: result, directory: directories[rank])
        }
    }

    static func losses(_ directory: URL) throws -> [Int: Double] {
        let text = try String(contentsOf: directory.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        var result: [Int: Double] = [:]
        for line in text.split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            if let step = object["step"] as? Int, let loss = object["loss"] as? Double { result[step] = loss }
        }
        return result
    }

    static func remove(_ outcomes: [RankOutcome]) {
        for outcome in outcomes { try? FileManager.default.removeItem(at: outcome.directory) }
    }

    @Test(arguments: ["reverse", "addition", "masked-lm", "vit"])
    func twoRanksOnShardsMatchOneProcessOnTheFullBatch(task: String) throws {
        let yaml = try #require(Self.recipes[task])
        // SGD, so the parameters show the gradients' agreement directly: Adam divides each gradient
        // by its running magnitude, which turns the rounding noise of near-zero gradients into
        // steps of the full learning rate whichever way the sums are ordered.
        let sgd = ["optimizer.kind=sgd", "optimizer.learningRate=0.1", "optimizer.momentum=0.9"]
        let local = try Self.train(yaml, processes: 1, overrides: sgd)
        defer { Self.remove(local) }
        let ranks = try Self.train(yaml, processes: 2, overrides: sgd)
        defer { Self.remove(ranks) }
        let (initialRecipe, _) = try Self.decode(yaml, overrides: sgd)
        let untrained = try StepTrainer(recipe: initialRecipe, recipeYAML: yaml,
                                               runDirectory: try RunDirectory(path: ranks[0].directory.appendingPathComponent("untrained").path),
                                               showProgress: false)

        let expected = local[0].parameters
        #expect(expected.keys.sorted() == ranks[0].parameters.keys.sorted())
        var largestDifference: Float = 0, largestChange: Float = 0
        for (name, initial) in untrained.model.namedParameters() {
            let (a, b) = (try #require(expected[name]), try #require(ranks[0].parameters[name]))
            for index in a.indices {
                largestDifference = max(largestDifference, abs(a[index] - b[index]))
                largestChange = max(largestChange, abs(a[index] - initial.scalars[index]))
            }
            // Gradients are averaged, so every replica takes the same step: the same bits.
            #expect(ranks[1].parameters[name]?.map(\.bitPattern) == b.map(\.bitPattern), "\(name) differs between the ranks")
        }
        #expect(largestChange > 1e-3, "\(task): 4 steps at learning rate 0.01 barely moved the parameters (\(largestChange))")
        // Shards change only the order of float sums: after 4 steps of about 0.01 each the
        // parameters agree to a few float32 ulps of their size.
        #expect(largestDifference <= 1e-6, "\(task): 2 ranks and 1 process differ by up to \(largestDifference)")

        // Rank 0 logs the mean loss over the ranks, which is the global batch's loss.
        let (expectedLosses, actualLosses) = (try Self.losses(local[0].directory), try Self.losses(ranks[0].directory))
        #expect(expectedLosses.keys.sorted() == Array(1...4) && actualLosses.keys.sorted() == Array(1...4))
        for step in 1...4 {
            let (a, b) = (expectedLosses[step] ?? .nan, actualLosses[step] ?? .nan)
            #expect(abs(a - b) <= 1e-5 * abs(a), "\(task) step \(step): 2-rank loss \(b) vs one process \(a)")
        }
        // Rank 0 alone writes; the other rank's directory stays empty.
        #expect(FileManager.default.fileExists(atPath: ranks[0].directory.appendingPathComponent("checkpoints/step-00000004.tsr").path))
        #expect(ranks[1].result.checkpointPath == nil)
        #expect(!FileManager.default.fileExists(atPath: ranks[1].directory.appendingPathComponent("metrics.jsonl").path))
        let workerCheckpoints = try FileManager.default.contentsOfDirectory(atPath: ranks[1].directory.appendingPathComponent("checkpoints").path)
        #expect(workerCheckpoints.isEmpty, "rank 1 wrote \(workerCheckpoints)")
    }

    /// With dropout on, rank 1's masks come from a stream of (seed, rank, step) and rank 0's from
    /// its checkpointed stream, so stopping and resuming with `auto` changes nothing.
    @Test func twoRankRunResumedWithAutoMatchesUninterruptedRunBitForBit() throws {
        let yaml = try #require(Self.recipes["reverse"])
        let dropout = ["model.dropout=0.1", "training.checkpointEvery=3"]
        let reference = try Self.train(yaml, processes: 2, overrides: dropout + ["training.steps=6"])
        defer { Self.remove(reference) }
        let directories = (0..<2).map { CommandLineTool.temporaryDirectory("tdp-resumed\($0)") }
        defer { for url in directories { try? FileManager.default.removeItem(at: url) } }
        let first = try Self.train(yaml, processes: 2, overrides: dropout + ["training.steps=3"], directories: directories)
        #expect(first[0].result.steps == 3)
        let resumed = try Self.train(yaml, processes: 2, overrides: dropout + ["training.steps=6"], directories: directories,
                                     resume: .automatic)
        #expect(resumed[0].result.steps == 6)
        for rank in 0..<2 {
            for (name, values) in reference[rank].parameters {
                #expect(resumed[rank].parameters[name]?.map(\.bitPattern) == values.map(\.bitPattern), "rank \(rank): \(name) differs after resume")
            }
        }
        let path = "checkpoints/step-00000006.tsr"
        let expected = try Checkpoint.read(from: reference[0].directory.appendingPathComponent(path).path).entries
        let actual = try Checkpoint.read(from: directories[0].appendingPathComponent(path).path).entries
        #expect(expected.map(\.name) == actual.map(\.name))
        for (a, b) in zip(expected, actual) { #expect(a.bytes == b.bytes, "\(a.name) differs in the resumed checkpoint") }
        // The resumed run's metrics hold each step once, as the uninterrupted run's do.
        #expect(try Self.losses(directories[0]).keys.sorted() == Self.losses(reference[0].directory).keys.sorted())
    }

    @Test func batchSmallerThanTheProcessCountIsRejected() throws {
        let (recipe, yaml) = try Self.decode(try #require(Self.recipes["addition"]), overrides: ["data.batchSize=1"])
        let directory = CommandLineTool.temporaryDirectory("tdp-small-batch")
        defer { try? FileManager.default.removeItem(at: directory) }
        let communicator = LocalCommunicator.group(size: 2)[0]
        do {
            _ = try StepTrainer(recipe: recipe, recipeYAML: yaml, runDirectory: try RunDirectory(path: directory.path),
                                       collective: CommunicatorCollective(communicator: communicator, settings: recipe.distributed),
                                       showProgress: false)
            Issue.record("a global batch of 1 cannot be shared by 2 processes")
        } catch {
            #expect("\(error)".contains("data.batchSize 1") && "\(error)".contains("2 processes"), "\(error)")
        }
    }

    /// Through the built executables: `tessera train --np 2` starts a coordinator and a worker
    /// under `mpirun`, and logs the same losses as `--np 1`.
    @Test func mpirunWithTwoProcessesLogsTheLossesOfOneProcess() throws {
        let workspace = CommandLineTool.temporaryDirectory("tdp-mpi")
        defer { try? FileManager.default.removeItem(at: workspace) }
        let recipeFile = workspace.appendingPathComponent("tiny-reverse.yaml")
        try Self.recipes["reverse"]!.write(to: recipeFile, atomically: true, encoding: .utf8)
        var losses: [Int: [Int: Double]] = [:]
        for processes in [1, 2] {
            let directory = workspace.appendingPathComponent("np\(processes)")
            let result = try CommandLineTool.run(["train", recipeFile.path, "--np", "\(processes)", "--run-dir", directory.path,
                                                  "--set", "training.steps=12", "--quiet"])
            #expect(result.status == 0, "np \(processes): \(result.errorOutput)")
            losses[processes] = try Self.losses(directory)
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("checkpoints/step-00000012.tsr").path))
            if processes == 2 { #expect(result.output.contains("on 2 processes: 12 steps"), "\(result.output)") }
        }
        let (local, distributed) = (losses[1] ?? [:], losses[2] ?? [:])
        #expect(local.keys.sorted() == Array(1...12) && distributed.keys.sorted() == local.keys.sorted())
        for step in local.keys.sorted() {
            let (a, b) = (local[step]!, distributed[step] ?? .nan)
            #expect(abs(a - b) <= 1e-4 * abs(a), "step \(step): np 2 loss \(b) vs np 1 \(a)")
        }
    }
}
