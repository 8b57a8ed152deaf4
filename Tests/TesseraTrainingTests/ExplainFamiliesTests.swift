import Foundation
import Testing
import TesseraTraining

/// `tessera explain` on the transformer and graph families: token heatmaps of the sequence
/// classifier, pixel heatmaps of the ViT, GNN-LRP walks of the karate GCN.
@Suite struct ExplainFamiliesTests {
    /// The majority-token classifier, 60 steps (≥ 90% held out, TransformerTrainingTests).
    static let tokens = Result {
        try ExplainRuns.train("configs/transformer-classify.yaml", named: "tokens", step: 60,
                              ["--set", "training.steps=60", "--set", "training.checkpointEvery=60", "--set", "training.evaluateEvery=60"])
    }
    /// A one-layer ViT on the digits, 60 steps.
    static let vit = Result {
        try ExplainRuns.train("configs/vit-digits.yaml", named: "vit", step: 60,
                              ["--set", "training.steps=60", "--set", "training.checkpointEvery=60", "--set", "training.evaluateEvery=60",
                               "--set", "model.layerCount=1", "--set", "model.modelDimensions=16", "--set", "model.headCount=2",
                               "--set", "schedule.warmupSteps=10"])
    }
    static let karate = Result {
        try ExplainRuns.train("configs/graph-karate.yaml", named: "karate", step: 300, [])
    }

    func scratch(_ name: String) -> URL { CommandLineTool.temporaryDirectory("explain-\(name)") }

    /// The token the LRP explanation ranks first is a copy of the winning marker — the class — in
    /// most held-out sequences (the task's known evidence).
    @Test func tokenHeatmapPointsAtTheWinningMarker() throws {
        let checkpoint = try Self.tokens.get()
        let directory = scratch("tokens")
        defer { try? FileManager.default.removeItem(at: directory) }
        let subject = try #require(try loadExplainSubject(checkpoint: checkpoint.path) as? TokenClassifierSubject)
        var hits = 0, correct = 0
        for index in 0..<12 {
            let output = directory.appendingPathComponent("t\(index).png").path
            let fields = try ExplainRuns.explain(checkpoint, ["--input", "\(index)", "--output", output])
            let relevance = try ExplainRuns.relevances(try #require(fields["relevances"] as? String))
            #expect(relevance.shape == [1, 16])
            guard let label = fields["label"] as? Int, fields["predicted"] as? Int == label else { continue }
            correct += 1
            let tokens = subject.examples.example(at: index).input.scalars.map { Int($0) }
            let top = relevance.values.indices.max { relevance.values[$0] < relevance.values[$1] }!
            if tokens[top] == label { hits += 1 }
        }
        #expect(correct >= 9, "the classifier should get most of the 12 right, got \(correct)")
        #expect(hits * 10 >= correct * 8, "the top token is the winning marker in \(hits) of \(correct) sequences")
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("t0.png").path))
    }

    /// Removing the tokens LRP ranks first (replacing them by filler) lowers the class logit
    /// faster than a random order and than the gradient's order.
    @Test func tokenLRPIsMoreFaithfulThanRandomAndGradient() throws {
        let subject = try loadExplainSubject(checkpoint: try Self.tokens.get().path)
        let rows = try subject.faithfulness(methods: [try ExplainMethod(parsing: "lrp"), .gradient, .random], examples: 100, steps: 8, removal: .noise)
        let aopc = rows.map(\.curve.areaOverThePerturbationCurve)
        #expect(aopc[0] > aopc[1] && aopc[0] > aopc[2], "AOPC lrp \(aopc[0]), gradient \(aopc[1]), random \(aopc[2])")
    }

    /// Every method explains the ViT's pixels; LRP-0 and the epsilon-gamma-box composite give
    /// heatmaps of the image's shape, different for different classes.
    @Test func vitPixelHeatmaps() throws {
        let checkpoint = try Self.vit.get()
        let directory = scratch("vit")
        defer { try? FileManager.default.removeItem(at: directory) }
        var byTarget: [[Float]] = []
        for target in [0, 1] {
            let fields = try ExplainRuns.explain(checkpoint, ["--input", "4", "--target", "\(target)", "--output",
                                                              directory.appendingPathComponent("v\(target).png").path])
            let relevance = try ExplainRuns.relevances(try #require(fields["relevances"] as? String))
            #expect(relevance.shape == [1, 1, 8, 8])
            #expect(relevance.values.allSatisfy(\.isFinite) && relevance.values.contains { $0 != 0 })
            byTarget.append(relevance.values)
        }
        #expect(zip(byTarget[0], byTarget[1]).contains { abs($0 - $1) > 1e-4 })
        for method in ["gradient", "gradient-x-input", "integrated-gradients", "smoothgrad"] {
            let fields = try ExplainRuns.explain(checkpoint, ["--input", "4", "--method", method, "--output",
                                                              directory.appendingPathComponent("\(method).png").path])
            #expect(try ExplainRuns.relevances(try #require(fields["relevances"] as? String)).shape == [1, 1, 8, 8])
        }
    }

    /// The karate GCN's explanation of member 33: walks of one node per layer plus the input
    /// that end at 33, node relevances for all 34 members, a picture; other methods, files and
    /// nodes out of range are refused by name.
    @Test func karateWalksEndAtTheExplainedMember() throws {
        let checkpoint = try Self.karate.get()
        let directory = scratch("karate")
        defer { try? FileManager.default.removeItem(at: directory) }
        let png = directory.appendingPathComponent("walks.png").path
        let fields = try ExplainRuns.explain(checkpoint, ["--input", "33", "--composite", "zero", "--output", png])
        let walks = try #require(fields["top_walks"] as? [[String: Any]])
        #expect(walks.count == 10)
        for walk in walks {
            let nodes = try #require(walk["nodes"] as? [Int])
            #expect(nodes.count == 4 && nodes.last == 33)
        }
        let magnitudes = walks.map { abs(($0["relevance"] as? Double) ?? 0) }
        #expect(magnitudes == magnitudes.sorted(by: >), "the walks come most relevant first")
        let relevance = try ExplainRuns.relevances(try #require(fields["relevances"] as? String))
        #expect(relevance.shape == [34])
        let sum = relevance.values.reduce(0, +)
        #expect(abs(Double(sum) - ((fields["relevance_sum"] as? Double) ?? .nan)) < 1e-4)
        #expect(FileManager.default.fileExists(atPath: png))

        for (arguments, fragment) in [(["--input", "33", "--method", "gradient"], "GNN-LRP"), (["--input", "34"], "34 nodes"),
                                      (["--input", "graph.npy"], "node's index")] {
            let result = try CommandLineTool.run(["explain", checkpoint.path, "--output", png] + arguments)
            #expect(result.status != 0)
            #expect(result.errorOutput.contains(fragment), "\(arguments): \(result.errorOutput)")
        }
        let faithfulness = try CommandLineTool.run(["explain", checkpoint.path, "--faithfulness"])
        #expect(faithfulness.status != 0 && faithfulness.errorOutput.contains("walks"))
    }

    /// A model with a layer no rule covers — a graph attention layer, which GNN-LRP has no walk
    /// rule for — is refused naming the layer and its type.
    @Test func aCheckpointWithALayerWithoutARuleIsRefusedNamingIt() throws {
        let checkpoint = try ExplainRuns.train("configs/graph-karate.yaml", named: "gat", step: 5,
                                               ["--set", "model.kind=gat", "--set", "model.headCount=2", "--set", "training.steps=5",
                                                "--set", "training.checkpointEvery=5"])
        let result = try CommandLineTool.run(["explain", checkpoint.path, "--input", "2", "--output",
                                              scratch("gat").appendingPathComponent("h.png").path])
        #expect(result.status != 0)
        #expect(result.errorOutput.contains("layers.0") && result.errorOutput.contains("GraphAttention"), "\(result.errorOutput)")
    }
}
