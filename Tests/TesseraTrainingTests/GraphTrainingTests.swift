import Foundation
import Testing
import TesseraCheckpoint
import TesseraConfig
import TesseraDistributed
import TesseraTraining

/// The shipped graph recipes reach their targets, graph runs shard over ranks with one
/// process's losses and resume bit for bit, and bad graph input is refused with a clear message.
@Suite(.serialized) struct GraphTrainingTests {
    /// Decodes a recipe file of `configs/` (or YAML text) with overrides.
    static func decode(file: String? = nil, yaml: String? = nil, overrides: [String] = []) throws -> (recipe: GraphRecipe, yaml: String, file: String) {
        let path = file.map { CommandLineTool.repositoryRoot.appendingPathComponent($0).path } ?? "tiny-graph.yaml"
        var recipe = try yaml.map { try Recipe(yaml: $0, file: path) } ?? loadRecipe(path: path, overrides: [])
        try recipe.apply(overrides: overrides)
        return (try recipe.decode(GraphRecipe.self), try recipe.canonicalYAML(), path)
    }

    /// Trains a shipped recipe in this process and returns its final metrics and run directory.
    static func train(_ file: String, overrides: [String] = []) throws -> (metrics: [String: Double], directory: URL) {
        let (recipe, yaml, path) = try decode(file: file, overrides: overrides)
        let directory = CommandLineTool.temporaryDirectory(recipe.name)
        let trainer = try StepTrainer(recipe: recipe, recipeYAML: yaml, recipeFile: path,
                                      runDirectory: try RunDirectory(path: directory.path), showProgress: false)
        return (try trainer.train().finalMetrics, directory)
    }

    @Test func karateRecipeClassifiesTheUnlabelledMembersFromOneLabelPerFaction() throws {
        let (metrics, directory) = try Self.train("configs/graph-karate.yaml")
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect((metrics["test_accuracy"] ?? 0) >= 0.9, "\(metrics)")
        #expect(metrics["train_accuracy"] == 1)
        let picture = try Data(contentsOf: directory.appendingPathComponent("embedding.png"))
        #expect(Array(picture.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    }

    /// The shipped citation recipes on a citation graph of 300 nodes instead of 1,000 (debug builds
    /// are slow; `make convergence` trains the full ones): the same split rule, the same targets.
    static let smallCitation = ["data.nodesPerClass=60", "data.validationNodes=60"]

    @Test func citationGCNReachesItsTargetAndTheFeatureOnlyMLPFallsClearlyShort() throws {
        let (gcn, gcnDirectory) = try Self.train("configs/graph-citation-gcn.yaml", overrides: Self.smallCitation)
        defer { try? FileManager.default.removeItem(at: gcnDirectory) }
        let (mlp, mlpDirectory) = try Self.train("configs/graph-citation-mlp.yaml", overrides: Self.smallCitation)
        defer { try? FileManager.default.removeItem(at: mlpDirectory) }
        let (gcnAccuracy, mlpAccuracy) = (gcn["test_accuracy"] ?? 0, mlp["test_accuracy"] ?? 1)
        #expect(gcnAccuracy >= 0.8, "GCN \(gcn)")
        #expect(gcnAccuracy - mlpAccuracy >= 0.15, "GCN \(gcnAccuracy) vs MLP \(mlpAccuracy): the graph should matter")
    }

    @Test func ginSeparatesCyclesFromChordedPaths() throws {
        let (metrics, directory) = try Self.train("configs/graph-cycles-gin.yaml", overrides: ["data.graphCount=300"])
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect((metrics["test_accuracy"] ?? 0) >= 0.95, "\(metrics)")
    }

    @Test func triangleRegressionBeatsPredictingTheMean() throws {
        let (metrics, directory) = try Self.train("configs/graph-triangles-gin.yaml", overrides: ["training.steps=200", "data.graphCount=400"])
        defer { try? FileManager.default.removeItem(at: directory) }
        let (error, baseline) = (metrics["test_mae"] ?? .infinity, metrics["baseline_mae"] ?? 0)
        #expect(error < 0.5 * baseline, "MAE \(error) against the mean's \(baseline)")
        #expect(metrics["best_test_mae"].map { $0 <= error } == true, "the best MAE is the smallest: \(metrics)")
    }

    @Test func contractionGNNLearnsTheCitationNodesAndReportsItsIterations() throws {
        let (metrics, directory) = try Self.train("configs/graph-citation-contraction.yaml",
                                                  overrides: Self.smallCitation + ["training.steps=100"])
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect((metrics["test_accuracy"] ?? 0) >= 0.7, "\(metrics)")
        let iterations = try #require(metrics["fixed_point_iterations"])
        #expect(iterations > 1 && iterations < 200, "\(iterations) iterations")
    }

    // MARK: - Several processes

    static let tiny: [String: String] = [
        "node": """
            task: graph
            name: tiny-citation
            seed: 3
            data: {source: citation, nodesPerClass: 12, classCount: 3, vocabularySize: 30, trainPerClass: 3, validationNodes: 5}
            model: {kind: gcn, hiddenSizes: [8]}
            optimizer: {kind: sgd, learningRate: 0.5, momentum: 0.9}
            training: {steps: 4, logEvery: 1}
            """,
        "graph": """
            task: graph
            name: tiny-cycles
            seed: 4
            data: {source: cycles, graphCount: 40, minimumNodes: 5, maximumNodes: 9, batchSize: 7}
            model: {kind: gin, hiddenSizes: [8, 8]}
            optimizer: {kind: sgd, learningRate: 0.05, momentum: 0.9}
            training: {steps: 4, logEvery: 1}
            """,
    ]

    static func train(yaml: String, processes: Int, overrides: [String] = [], directories: [URL]? = nil,
                      resume: ResumeRequest = .none) throws -> [RankOutcome] {
        let (recipe, canonical, file) = try decode(yaml: yaml, overrides: overrides)
        return try RankRuns.train(processes: processes, distributed: recipe.distributed, prefix: "gdp", directories: directories,
                                  resume: resume) { runDirectory, collective in
            try StepTrainer(recipe: recipe, recipeYAML: canonical, recipeFile: file, runDirectory: runDirectory,
                            collective: collective, showProgress: false)
        }
    }

    /// Node tasks shard the labelled nodes (9 split 4 + 5), graph tasks each batch's graphs (7
    /// split 3 + 4): either way the averaged gradient is one process's.
    @Test(arguments: ["node", "graph"])
    func twoRanksMatchOneProcess(task: String) throws {
        let yaml = try #require(Self.tiny[task])
        let local = try Self.train(yaml: yaml, processes: 1)
        defer { RankOutcome.remove(local) }
        let ranks = try Self.train(yaml: yaml, processes: 2)
        defer { RankOutcome.remove(ranks) }
        var largest: Float = 0
        for (name, expected) in local[0].parameters {
            let actual = try #require(ranks[0].parameters[name])
            for (a, b) in zip(expected, actual) { largest = max(largest, abs(a - b)) }
            #expect(ranks[1].parameters[name]?.map(\.bitPattern) == actual.map(\.bitPattern), "\(name) differs between the ranks")
        }
        #expect(largest <= 1e-5, "\(task): 2 ranks and 1 process differ by up to \(largest)")
        try RunComparisons.expectSameLosses(local[0].directory, ranks[0].directory, steps: 4, "\(task), 2 ranks against one process")
    }

    /// With dropout (different masks on each rank) a 2-rank run stopped at step 3 and resumed
    /// with `auto` ends with the uninterrupted run's checkpoint, byte for byte.
    @Test(arguments: ["node", "graph"])
    func twoRankRunResumedMatchesTheUninterruptedRunBitForBit(task: String) throws {
        let yaml = try #require(Self.tiny[task])
        let options = ["model.dropout=0.3", "training.checkpointEvery=3"]
        try RankRuns.expectResumeIsBitExact(options: options, prefix: "gdp") { overrides, directories, resume in
            try Self.train(yaml: yaml, processes: 2, overrides: overrides, directories: directories, resume: resume)
        }
    }

    /// Through the executables: `tessera train --np 2` logs the losses of `--np 1`.
    @Test func mpirunWithTwoProcessesLogsTheLossesOfOneProcess() throws {
        try RunComparisons.expectMpirunMatchesOneProcess(recipe: Self.tiny["graph"]!, named: "tiny-cycles", steps: 8)
    }

    // MARK: - Bad input

    /// Runs `tessera train` expecting a refusal, and returns what it printed on stderr.
    static func refusal(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let result = try CommandLineTool.run(["train"] + arguments + ["--quiet"])
        #expect(result.status != 0, "expected a refusal, got: \(result.output)", sourceLocation: sourceLocation)
        return result.errorOutput
    }

    @Test func anEdgeListWithABadLineIsRefusedNamingTheFileAndLine() throws {
        let workspace = CommandLineTool.temporaryDirectory("graph-bad-edges")
        defer { try? FileManager.default.removeItem(at: workspace) }
        try "u,v\n0,1\n1,2\n2,x\n".write(to: workspace.appendingPathComponent("edges.csv"), atomically: true, encoding: .utf8)
        try "node,label\n0,0\n1,1\n2,0\n".write(to: workspace.appendingPathComponent("labels.csv"), atomically: true, encoding: .utf8)
        let recipe = workspace.appendingPathComponent("mine.yaml")
        try """
            task: graph
            name: mine
            data: {source: edgeList, edgesPath: edges.csv, labelsPath: labels.csv, trainPerClass: 1}
            model: {kind: gcn}
            optimizer: {kind: adam, learningRate: 0.01}
            training: {steps: 2}
            """.write(to: recipe, atomically: true, encoding: .utf8)
        let message = try Self.refusal([recipe.path, "--run-dir", workspace.appendingPathComponent("run").path])
        #expect(message.contains("edges.csv:4: target 'x' is not a number"), "\(message)")
        try "node,label\n0,0\n1,1\n7,0\n".write(to: workspace.appendingPathComponent("labels.csv"), atomically: true, encoding: .utf8)
        try "0,1\n1,2\n".write(to: workspace.appendingPathComponent("edges.csv"), atomically: true, encoding: .utf8)
        let unknown = try Self.refusal([recipe.path, "--run-dir", workspace.appendingPathComponent("run").path])
        #expect(unknown.contains("labels.csv:4: node 7 is unknown; the graph has nodes 0..<3"), "\(unknown)")
    }

    @Test func aNodeModelForAGraphTaskIsRefusedBeforeTraining() throws {
        let message = try Self.refusal(["configs/graph-cycles-gin.yaml", "--set", "model.kind=mlp"])
        #expect(message.contains("model.kind") && message.contains("classifies whole graphs"), "\(message)")
    }

    /// GAT's hidden widths must split into its heads: a width that does not is refused by key, not
    /// a crash while the model is built.
    @Test func gatHiddenWidthsThatDoNotSplitIntoTheHeadsAreRefused() throws {
        let message = try Self.refusal(["configs/graph-karate.yaml", "--set", "model.kind=gat", "--set", "model.headCount=4"])
        #expect(message.contains("model.hiddenSizes") && message.contains("headCount (4)") && message.contains("[2]"), "\(message)")
    }

    /// A checkpoint whose feature width differs from the recipe's data (another vocabulary) does
    /// not load into the model: the error names the tensor and both shapes.
    @Test func resumingWithADifferentFeatureWidthNamesTheTensorAndShapes() throws {
        let yaml = try #require(Self.tiny["node"])
        let outcome = try Self.train(yaml: yaml, processes: 1)
        defer { RankOutcome.remove(outcome) }
        let (recipe, canonical, file) = try Self.decode(yaml: yaml, overrides: ["data.vocabularySize=40"])
        let trainer = try StepTrainer(recipe: recipe, recipeYAML: canonical, recipeFile: file,
                                      runDirectory: try RunDirectory(path: outcome[0].directory.path), showProgress: false)
        do {
            _ = try trainer.train(resume: .automatic)
            Issue.record("a 30-feature checkpoint loaded into a 40-feature model")
        } catch {
            #expect("\(error)".contains("30") && "\(error)".contains("40"), "\(error)")
        }
    }
}
