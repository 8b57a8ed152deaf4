import Foundation
import Testing
import TesseraCheckpoint
import TesseraConfig
import TesseraDistributed
import TesseraTraining

/// Smaller versions of the shipped neural-ODE recipes reach their targets (the full ones are
/// measured in release), ODE runs shard over ranks with one process's losses and resume bit for
/// bit, adaptive solver included, and bad ODE input is refused naming the key.
@Suite(.serialized) struct ODETrainingTests {
    static func decode(file: String? = nil, yaml: String? = nil, overrides: [String] = []) throws -> (recipe: ODERecipe, yaml: String) {
        let path = file.map { CommandLineTool.repositoryRoot.appendingPathComponent($0).path } ?? "tiny-ode.yaml"
        var recipe = try yaml.map { try Recipe(yaml: $0, file: path) } ?? loadRecipe(path: path, overrides: [])
        try recipe.apply(overrides: overrides)
        return (try recipe.decode(ODERecipe.self), try recipe.canonicalYAML())
    }

    /// Trains a shipped recipe (with overrides) in this process: its final metrics and run directory.
    static func train(_ file: String, overrides: [String] = []) throws -> (metrics: [String: Double], directory: URL) {
        let (recipe, yaml) = try decode(file: file, overrides: overrides)
        let directory = CommandLineTool.temporaryDirectory(recipe.name)
        let trainer = try StepTrainer(recipe: recipe, recipeYAML: yaml, runDirectory: try RunDirectory(path: directory.path),
                                      showProgress: false)
        return (try trainer.train().finalMetrics, directory)
    }

    static func isPNG(_ url: URL) -> Bool {
        (try? Data(contentsOf: url)).map { Array($0.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] } ?? false
    }

    // MARK: - The recipes, smaller

    /// The spiral recipe's model, solver and training on 400 moons with fewer steps: the spirals
    /// themselves take 1,000 steps of 256 points to pass 95% (measured in release), too long for a
    /// debug test; 150 steps on them reached 61%.
    @Test func spiralNODEClassifiesHeldOutPointsAndCountsItsEvaluations() throws {
        let (metrics, directory) = try Self.train("configs/ode-spirals.yaml", overrides: [
            "data.source=moons", "data.count=400", "data.batchSize=128", "model.hiddenSizes=[32, 32]", "training.steps=150",
            "training.evaluateEvery=0"])
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect((metrics["test_accuracy"] ?? 0) >= 0.9, "\(metrics)")
        // dopri5 costs 2 + 6 × steps evaluations per solve; direct gradients have no backward solve.
        for key in ["train_nfe", "test_nfe"] {
            let nfe = try #require(metrics[key])
            #expect(nfe >= 8 && (Int(nfe) - 2) % 6 == 0, "\(key) \(nfe)")
        }
        #expect(metrics["train_adjoint_nfe"] == nil, "\(metrics)")
        #expect(Self.isPNG(directory.appendingPathComponent("flow.png")))
    }

    /// At the looser tolerances of one process (the recipe's are tight for `--np 2`): 30 s instead of 46 in debug.
    @Test func anODEBlockInPlaceOfResidualBlocksClassifiesTheDigits() throws {
        let (metrics, directory) = try Self.train("configs/ode-digits.yaml", overrides: [
            "training.steps=120", "training.evaluateEvery=0", "solver.rtol=0.001", "solver.atol=0.0001"])
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect((metrics["test_accuracy"] ?? 0) >= 0.9, "\(metrics)")
    }

    /// Dupont et al.'s g(x) = −x: the plain NODE's loss stays high, the ANODE's falls.
    @Test func augmentationLetsTheFlowReflectTheLineWhereAPlainNODECannot() throws {
        let short = ["training.steps=120", "training.evaluateEvery=0"]
        let (augmented, anodeDirectory) = try Self.train("configs/ode-anode-reflection.yaml", overrides: short)
        defer { try? FileManager.default.removeItem(at: anodeDirectory) }
        let (plain, nodeDirectory) = try Self.train("configs/ode-anode-reflection.yaml",
                                                    overrides: short + ["model.kind=node", "model.augmentedDimensions=0"])
        defer { try? FileManager.default.removeItem(at: nodeDirectory) }
        let (anodeLoss, nodeLoss) = (augmented["test_mse"] ?? .infinity, plain["test_mse"] ?? 0)
        #expect(anodeLoss < 0.05, "ANODE \(augmented)")
        #expect(nodeLoss > 0.2, "NODE \(plain): an order-preserving flow cannot map x to −x")
        #expect(Self.isPNG(anodeDirectory.appendingPathComponent("flow.png")))
    }

    @Test func augmentedCirclesReachALowerLossThanThePlainNODE() throws {
        let short = ["data.count=400", "training.steps=150", "training.evaluateEvery=0"]
        let (augmented, anodeDirectory) = try Self.train("configs/ode-anode-circles.yaml", overrides: short)
        defer { try? FileManager.default.removeItem(at: anodeDirectory) }
        let (plain, nodeDirectory) = try Self.train("configs/ode-anode-circles.yaml",
                                                    overrides: short + ["model.kind=node", "model.augmentedDimensions=0"])
        defer { try? FileManager.default.removeItem(at: nodeDirectory) }
        let (anodeLoss, nodeLoss) = (augmented["test_loss"] ?? .infinity, plain["test_loss"] ?? 0)
        #expect(anodeLoss < nodeLoss, "ANODE \(augmented) vs NODE \(plain)")
        #expect((augmented["test_accuracy"] ?? 0) >= 0.85, "ANODE \(augmented)")
        #expect(Self.isPNG(anodeDirectory.appendingPathComponent("flow.png")))
    }

    /// FFJORD on the moons beats the best single Gaussian's held-out log-likelihood.
    @Test func ffjordOnTheMoonsBeatsTheBestGaussianOnHeldOutPoints() throws {
        let (metrics, directory) = try Self.train("configs/ode-ffjord-moons.yaml", overrides: [
            "data.count=400", "data.batchSize=100", "model.hiddenSizes=[32, 32]", "solver.rtol=0.001", "solver.atol=0.001",
            "training.steps=150", "training.evaluateEvery=0", "schedule.kind=constant"])
        defer { try? FileManager.default.removeItem(at: directory) }
        // The moons (x spread ≈ 0.87, y ≈ 0.50 around their centre, nearly uncorrelated) under the
        // Gaussian of their own mean and covariance: −log 2π − 1 − log(0.87 · 0.50) ≈ −2.0.
        let logLikelihood = try #require(metrics["test_log_likelihood"])
        #expect(logLikelihood > -1.9, "\(metrics)")
        #expect(Self.isPNG(directory.appendingPathComponent("density.png")))
    }

    // MARK: - Several processes, resume

    static let tiny: [String: String] = [
        "rk4": """
            task: ode
            name: tiny-ode-rk4
            seed: 5
            data: {source: moons, count: 60, batchSize: 7}
            model: {kind: anode, augmentedDimensions: 1, hiddenSizes: [8]}
            solver: {method: rk4, stepSize: 0.25, gradient: direct}
            optimizer: {kind: sgd, learningRate: 0.1, momentum: 0.9}
            training: {steps: 4, logEvery: 1}
            """,
        "dopri5": """
            task: ode
            name: tiny-ode-dopri5
            seed: 6
            data: {source: spirals, count: 60, batchSize: 7}
            model: {kind: node, hiddenSizes: [8]}
            solver: {method: dopri5, rtol: 0.00001, atol: 0.00001, gradient: adjoint}
            optimizer: {kind: adam, learningRate: 0.05}
            training: {steps: 4, logEvery: 1}
            """,
        "ffjord": """
            task: ode
            name: tiny-ode-ffjord
            seed: 7
            data: {source: moons, count: 60, batchSize: 7}
            model: {kind: ffjord, hiddenSizes: [8]}
            solver: {method: dopri5, rtol: 0.00001, atol: 0.00001, gradient: adjoint}
            optimizer: {kind: adam, learningRate: 0.01}
            training: {steps: 4, logEvery: 1}
            """,
    ]

    static func train(yaml: String, processes: Int, overrides: [String] = [], directories: [URL]? = nil,
                      resume: ResumeRequest = .none) throws -> [RankOutcome] {
        let (recipe, canonical) = try decode(yaml: yaml, overrides: overrides)
        return try RankRuns.train(processes: processes, distributed: recipe.distributed, prefix: "odp", directories: directories,
                                  resume: resume) { runDirectory, collective in
            try StepTrainer(recipe: recipe, recipeYAML: canonical, runDirectory: runDirectory, collective: collective, showProgress: false)
        }
    }

    /// 7 examples split 3 + 4. rk4 takes the same steps on any rows; dopri5 sums its error norms
    /// over the ranks, so both shards take the whole batch's forward steps (one process's NFE)
    /// and the adjoint's to rounding, and the losses agree to float rounding, not to the solver's
    /// tolerance.
    /// One process's sums of squares and the ranks' sums of two partial sums differ only in the
    /// order of their `Double` additions; the rest is the gradient allreduce's Float rounding.
    @Test(arguments: ["rk4", "dopri5", "ffjord"])
    func twoRanksMatchOneProcess(solver: String) throws {
        let yaml = try #require(Self.tiny[solver])
        // Where per-shard steps showed (checked with the sum switched off): dopri5's losses drifted
        // by 1.4e-5 at rtol 1e-2. With the sum: 2e-7 at most.
        let overrides = solver == "dopri5" ? ["solver.rtol=0.01", "solver.atol=0.001"] : []
        let local = try Self.train(yaml: yaml, processes: 1, overrides: overrides)
        defer { RankOutcome.remove(local) }
        let ranks = try Self.train(yaml: yaml, processes: 2, overrides: overrides)
        defer { RankOutcome.remove(ranks) }
        for (name, _) in local[0].parameters {
            #expect(ranks[1].parameters[name]?.map(\.bitPattern) == ranks[0].parameters[name]?.map(\.bitPattern),
                    "\(name) differs between the ranks")
        }
        try RunComparisons.expectSameLosses(local[0].directory, ranks[0].directory, steps: 4, "\(solver), 2 ranks against one process",
                                            relativeTolerance: 1e-6)
        let (alone, together) = (try RunComparisons.lastMetrics(local[0].directory), try RunComparisons.lastMetrics(ranks[0].directory))
        // The forward solve's rows are computed alone, so its steps are one process's exactly. The
        // adjoint's need not be: its parameter gradient sums over rows, rounded differently in
        // one batch and in shards, and its error estimate carries that rounding into the steps
        // (FFJORD here: 20 evaluations on 2 ranks, 26 in one process; see ProcessSumTests).
        for key in ["train_nfe"] where solver != "rk4" {
            #expect(alone[key] != nil && together[key] == alone[key], "\(key): 2 ranks \(together[key] ?? .nan), one process \(alone[key] ?? .nan)")
        }
    }

    /// With `training.batchShards: 2` one process differentiates the two shards one after the
    /// other, each solved with its own adaptive steps, and adds their gradients; two ranks take
    /// one shard each and the allreduce adds the same two numbers. Parameters, losses and every
    /// NFE are then the same bits, for direct and adjoint gradients and for FFJORD.
    @Test(arguments: ["dopri5", "dopri5-direct", "ffjord"])
    func batchShardsMakeTwoRanksTrainBitForBitLikeOneProcess(solver: String) throws {
        let yaml = try #require(Self.tiny[solver == "dopri5-direct" ? "dopri5" : solver])
        let overrides = ["training.batchShards=2", "training.evaluateEvery=4"] + (solver == "dopri5-direct" ? ["solver.gradient=direct"] : [])
        let local = try Self.train(yaml: yaml, processes: 1, overrides: overrides)
        defer { RankOutcome.remove(local) }
        let ranks = try Self.train(yaml: yaml, processes: 2, overrides: overrides)
        defer { RankOutcome.remove(ranks) }
        #expect(!local[0].parameters.isEmpty)
        for (name, values) in local[0].parameters {
            #expect(ranks[0].parameters[name]?.map(\.bitPattern) == values.map(\.bitPattern), "\(solver): \(name) differs from one process's")
        }
        try RunComparisons.expectSameLosses(local[0].directory, ranks[0].directory, steps: 4, "\(solver), batchShards 2",
                                            relativeTolerance: 1e-15)
        let (alone, together) = (try RunComparisons.lastMetrics(local[0].directory), try RunComparisons.lastMetrics(ranks[0].directory))
        for key in ["train_nfe", "test_nfe", "test_loss"] + (solver == "dopri5-direct" ? [] : ["train_adjoint_nfe"]) {
            #expect(alone[key] != nil && together[key] == alone[key], "\(solver) \(key): 2 ranks \(together[key] ?? .nan), one process \(alone[key] ?? .nan)")
        }
    }

    /// The same recipe without the key would differ: each process's rows then share the whole
    /// batch's steps, and the gradient's rounding differs in the last bits (so the test above
    /// pins the shards, not a coincidence).
    @Test func withoutBatchShardsTwoRanksDifferFromOneProcessInTheLastBits() throws {
        let yaml = try #require(Self.tiny["ffjord"])
        let local = try Self.train(yaml: yaml, processes: 1)
        defer { RankOutcome.remove(local) }
        let ranks = try Self.train(yaml: yaml, processes: 2)
        defer { RankOutcome.remove(ranks) }
        let differing = local[0].parameters.filter { name, values in ranks[0].parameters[name]?.map(\.bitPattern) != values.map(\.bitPattern) }
        #expect(!differing.isEmpty, "every parameter came out bit for bit the same without batchShards")
    }

    /// `training.batchShards` S trains with 1 or S processes; 3 processes for 2 shards, and a task
    /// whose shards see each other's rows, are refused before any step, naming the key.
    @Test func batchShardsRefuseOtherProcessCountsNamingTheKey() throws {
        let yaml = try #require(Self.tiny["rk4"])
        do {
            _ = try Self.train(yaml: yaml, processes: 3, overrides: ["training.batchShards=2"])
            Issue.record("3 processes trained 2 batch shards")
        } catch {
            let message = "\(error)"
            for part in ["training.batchShards is 2", "not 3", "--np 1, --np 2"] { #expect(message.contains(part), "\(message)") }
        }
        let workspace = CommandLineTool.temporaryDirectory("shards-bn")
        defer { try? FileManager.default.removeItem(at: workspace) }
        // The transformer workloads do not say their shards are independent.
        let result = try CommandLineTool.run(["train", "configs/transformer-classify.yaml", "--set", "training.batchShards=2",
                                              "--run-dir", workspace.appendingPathComponent("run").path, "--quiet"])
        #expect(result.status != 0, "expected a refusal, got: \(result.output)")
        for part in ["training.batchShards is 2", "not independent"] {
            #expect(result.errorOutput.contains(part), "\(result.errorOutput)")
        }
    }

    /// The adjoint's backward solve reports its NFE next to the forward's (2 + 6 × its steps);
    /// direct gradients have no backward solve and report none.
    @Test func adjointGradientsReportTheBackwardSolvesEvaluations() throws {
        let yaml = try #require(Self.tiny["dopri5"])
        let adjoint = try Self.train(yaml: yaml, processes: 1)
        defer { RankOutcome.remove(adjoint) }
        let metrics = try RunComparisons.lastMetrics(adjoint[0].directory)
        let backward = try #require(metrics["train_adjoint_nfe"], "\(metrics)")
        #expect(backward >= 8 && (Int(backward) - 2) % 6 == 0, "train_adjoint_nfe \(backward)")
        let direct = try Self.train(yaml: yaml, processes: 1, overrides: ["solver.gradient=direct"])
        defer { RankOutcome.remove(direct) }
        let directMetrics = try RunComparisons.lastMetrics(direct[0].directory)
        #expect(directMetrics["train_nfe"] != nil && directMetrics["train_adjoint_nfe"] == nil, "\(directMetrics)")
    }

    /// A 2-rank run stopped at step 3 and resumed with `auto` ends with the uninterrupted run's
    /// checkpoint, byte for byte: dopri5 recomputes its first step from the state in every solve,
    /// so there is no controller state to carry over.
    @Test(arguments: ["dopri5", "ffjord"])
    func twoRankRunResumedMatchesTheUninterruptedRunBitForBit(solver: String) throws {
        let yaml = try #require(Self.tiny[solver])
        let options = ["training.checkpointEvery=3", "training.evaluateEvery=3"]
        try RankRuns.expectResumeIsBitExact(options: options, prefix: "odp") { overrides, directories, resume in
            try Self.train(yaml: yaml, processes: 2, overrides: overrides, directories: directories, resume: resume)
        }
    }

    /// A `tessera train` of the tiny dopri5 recipe killed with SIGKILL at a random moment after its
    /// first checkpoint, resumed with `auto`, ends with the uninterrupted run's model and optimizer
    /// bytes: nothing of the adaptive solver's lives outside the checkpoint. About 10 s in debug.
    @Test func killedODERunResumedWithAutoMatchesTheUninterruptedRunBitForBit() throws {
        let workspace = CommandLineTool.temporaryDirectory("ode-killed")
        defer { try? FileManager.default.removeItem(at: workspace) }
        let recipe = workspace.appendingPathComponent("tiny-ode.yaml")
        try Self.tiny["dopri5"]!.write(to: recipe, atomically: true, encoding: .utf8)
        let settings = ["training.steps=400", "training.checkpointEvery=20", "training.evaluateEvery=100"].flatMap { ["--set", $0] } + ["--quiet"]
        try RunComparisons.expectKilledRunResumesBitForBit(recipe: recipe.path, settings: settings,
                                                           lastCheckpoint: "checkpoints/step-00000400.tsr",
                                                           maximumDelay: 1_000_000, in: workspace)
    }

    /// Through the executables: `tessera train --np 2` logs the losses of `--np 1`.
    @Test func mpirunWithTwoProcessesLogsTheLossesOfOneProcess() throws {
        try RunComparisons.expectMpirunMatchesOneProcess(recipe: Self.tiny["rk4"]!, named: "tiny-ode", steps: 4)
    }

    /// The shipped adaptive recipes (`training.batchShards: 2`), 5 steps of their cosine schedule
    /// squeezed into 5, through `tessera train --np 2` under mpirun: one process's losses, NFE and
    /// checkpoint bytes. (Measured over the full runs in release: the same bits at every logged
    /// step of 1,500 and 1,000.) About 12 s in debug.
    @Test(arguments: ["ode-spirals", "ode-ffjord-moons"])
    func mpirunWithTwoProcessesTrainsTheAdaptiveRecipesBitForBitLikeOneProcess(recipe: String) throws {
        let yaml = try String(contentsOf: CommandLineTool.repositoryRoot.appendingPathComponent("configs/\(recipe).yaml"), encoding: .utf8)
        try RunComparisons.expectMpirunMatchesOneProcess(recipe: yaml, named: recipe, steps: 5,
                                                         overrides: ["training.logEvery=1", "training.evaluateEvery=0", "training.checkpointEvery=0"],
                                                         relativeTolerance: 1e-15, sameMetrics: recipe == "ode-ffjord-moons" ? ["train_nfe", "train_adjoint_nfe"] : ["train_nfe"],
                                                         sameCheckpoint: "checkpoints/step-00000005.tsr")
    }

    // MARK: - Bad input

    /// A solve that fails during training (here: dopri5 allowed 2 steps) stops the run at that step
    /// with the solver's error, for a classifier and for FFJORD, before anything is checkpointed.
    @Test(arguments: ["configs/ode-spirals.yaml", "configs/ode-ffjord-moons.yaml"])
    func aSolveThatFailsInTrainingStopsTheRunNamingTheSolverAndStep(recipe: String) throws {
        let workspace = CommandLineTool.temporaryDirectory("ode-failed-solve")
        defer { try? FileManager.default.removeItem(at: workspace) }
        let run = workspace.appendingPathComponent("run")
        let result = try CommandLineTool.run(["train", recipe, "--set", "solver.maximumSteps=2", "--run-dir", run.path, "--quiet"])
        #expect(result.status != 0, "expected the run to stop, got: \(result.output)")
        for part in ["step 1:", "training loss is", "ODE solve failed", "dopri5", "maximum step count 2 exceeded"] {
            #expect(result.errorOutput.contains(part), "\(recipe): \(result.errorOutput)")
        }
        let checkpoints = (try? FileManager.default.contentsOfDirectory(atPath: run.appendingPathComponent("checkpoints").path)) ?? []
        #expect(checkpoints.isEmpty, "a checkpoint was written: \(checkpoints)")
    }

    /// With two ranks both stop together (they agree on the loss before the backward pass), so
    /// neither waits for the other in a collective.
    @Test func bothRanksStopTogetherWhenASolveFails() throws {
        let yaml = try #require(Self.tiny["dopri5"])
        do {
            _ = try Self.train(yaml: yaml, processes: 2, overrides: ["solver.maximumSteps=2"])
            Issue.record("training went on after the solver failed")
        } catch {
            let message = "\(error)"
            #expect(message.contains("step 1:") && (message.contains("training loss is") || message.contains("another process's")), "\(message)")
        }
    }


    /// `tessera train` on the spiral recipe with one override must fail before training, and
    /// its message must name the key and say what was expected.
    @Test(arguments: [
        ("solver.method=rk5", ["solver.method", "unknown value 'rk5'", "dopri5"]),
        ("solver.rtol=0", ["solver.rtol", "must be a relative error per step in (0, 1), found 0"]),
        ("solver.atol=-1", ["solver.atol", "must be a positive absolute error"]),
        ("model.inputFeatures=3", ["model.inputFeatures", "source spirals has 2 features per example, found 3"]),
        ("solver.stepSize=0.1", ["solver.stepSize", "dopri5 picks its own steps"]),
        ("model.augmentedDimensions=2", ["model.augmentedDimensions", "augments only kind anode"]),
        ("training.batchShards=0", ["training.batchShards", "0"]),
    ])
    func badRecipeInputIsRefusedNamingTheKey(override: String, expected: [String]) throws {
        let workspace = CommandLineTool.temporaryDirectory("ode-bad")
        defer { try? FileManager.default.removeItem(at: workspace) }
        let result = try CommandLineTool.run(["train", "configs/ode-spirals.yaml", "--set", override,
                                              "--run-dir", workspace.appendingPathComponent("run").path, "--quiet"])
        #expect(result.status != 0, "expected a refusal, got: \(result.output)")
        for part in expected { #expect(result.errorOutput.contains(part), "\(override): \(result.errorOutput)") }
        #expect(!FileManager.default.fileExists(atPath: workspace.appendingPathComponent("run/metrics.jsonl").path),
                "training started")
    }
}
