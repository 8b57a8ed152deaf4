import Foundation
import TesseraCheckpoint
import Testing
import TesseraTraining

/// `tessera explain` on checkpoints the trainer writes: heatmaps and relevances for held-out
/// examples and files, faithfulness measured by pixel flipping, checkpoints of `--np 2` runs, and
/// bad input refused by name.
@Suite struct ExplainCommandTests {
    /// A small digits CNN (4 epochs, 8 and 16 channels, no dropout: ranks draw different dropout
    /// masks) trained once for the suite, with one process and with two.
    static let checkpoints: Result<[Int: URL], any Error> = Result {
        var checkpoints: [Int: URL] = [:]
        for processes in [1, 2] {
            checkpoints[processes] = try ExplainRuns.train("configs/cnn-digits.yaml", named: "cnn-np\(processes)", step: 92,
                                                          ["--np", "\(processes)", "--set", "training.epochs=4", "--set", "model.channels=[8, 16]",
                                                           "--set", "model.dropout=0"])
        }
        return checkpoints
    }

    func checkpoint(processes: Int = 1) throws -> URL { try #require(try Self.checkpoints.get()[processes]) }

    func explain(_ arguments: [String], processes: Int = 1) throws -> [String: Any] {
        try ExplainRuns.explain(try checkpoint(processes: processes), arguments)
    }

    func relevances(_ path: String) throws -> (shape: [Int], values: [Float]) { try ExplainRuns.relevances(path) }

    @Test func lrpZeroOnTheReLUNetworkEqualsGradientTimesInput() throws {
        let directory = CommandLineTool.temporaryDirectory("explain-zero")
        defer { try? FileManager.default.removeItem(at: directory) }
        let lrp = try explain(["--input", "7", "--composite", "zero", "--output", directory.appendingPathComponent("lrp.png").path])
        let gradient = try explain(["--input", "7", "--method", "gradient-x-input", "--output", directory.appendingPathComponent("gxi.png").path])
        #expect(lrp["predicted"] as? Int == gradient["predicted"] as? Int)
        let a = try relevances(try #require(lrp["relevances"] as? String))
        let b = try relevances(try #require(gradient["relevances"] as? String))
        #expect(a.shape == [1, 1, 8, 8] && b.shape == a.shape)
        let scale = b.values.map(abs).max() ?? 1
        #expect(scale > 0)
        for (x, y) in zip(a.values, b.values) { #expect(abs(x - y) <= 1e-4 * scale) }
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("lrp.png").path))
    }

    /// The default composite explains the predicted class; with `--target` another one, whose
    /// relevances differ. The heatmap has a red (positive) and a white (zero-relevance) region.
    @Test func epsilonGammaBoxHeatmapOfPredictedAndChosenClasses() throws {
        let directory = CommandLineTool.temporaryDirectory("explain-box")
        defer { try? FileManager.default.removeItem(at: directory) }
        let predicted = try explain(["--input", "3", "--output", directory.appendingPathComponent("p.png").path])
        let label = try #require(predicted["predicted"] as? Int)
        #expect(predicted["target"] as? Int == label)
        let other = (label + 1) % 10
        let chosen = try explain(["--input", "3", "--target", "\(other)", "--output", directory.appendingPathComponent("o.png").path])
        #expect(chosen["target"] as? Int == other)
        let a = try relevances(try #require(predicted["relevances"] as? String)).values
        let b = try relevances(try #require(chosen["relevances"] as? String)).values
        #expect(zip(a, b).contains { abs($0 - $1) > 1e-3 })
        #expect((predicted["relevance_sum"] as? Double ?? 0) > 0, "the predicted class's evidence should be positive overall")
        let png = try Data(contentsOf: directory.appendingPathComponent("p.png"))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
    }

    @Test func inputFromANumpyFileMatchesTheHeldOutExample() throws {
        let directory = CommandLineTool.temporaryDirectory("explain-file")
        defer { try? FileManager.default.removeItem(at: directory) }
        let subject = try #require(try loadExplainSubject(checkpoint: try checkpoint().path) as? any FeatureExplainSubject)
        let example = subject.examples.example(at: 11).input
        let file = directory.appendingPathComponent("digit.npy").path
        let entry = CheckpointEntry(name: "digit", dtype: .float32, shape: example.shape, bytes: example.scalars.withUnsafeBytes { Array($0) })
        try Data(try Numpy.encodeArray(entry)).write(to: URL(fileURLWithPath: file))
        let fromFile = try explain(["--input", file, "--output", directory.appendingPathComponent("f.png").path])
        let fromIndex = try explain(["--input", "11", "--output", directory.appendingPathComponent("i.png").path])
        #expect(fromFile["label"] is NSNull)
        #expect(fromIndex["label"] as? Int != nil)
        #expect(try relevances(fromFile["relevances"] as! String).values == relevances(fromIndex["relevances"] as! String).values)
    }

    /// The checkpoint of a two-process run explains like any other, and like the one-process
    /// run's (the two trainings agree to rounding).
    @Test func checkpointOfATwoProcessRunExplainsLikeOneProcess() throws {
        let directory = CommandLineTool.temporaryDirectory("explain-np2")
        defer { try? FileManager.default.removeItem(at: directory) }
        let one = try explain(["--input", "5", "--output", directory.appendingPathComponent("1.png").path])
        let two = try explain(["--input", "5", "--output", directory.appendingPathComponent("2.png").path], processes: 2)
        #expect(one["predicted"] as? Int == two["predicted"] as? Int)
        let a = try relevances(one["relevances"] as! String).values, b = try relevances(two["relevances"] as! String).values
        let scale = a.map(abs).max() ?? 1
        for (x, y) in zip(a, b) { #expect(abs(x - y) <= 1e-2 * scale) }
    }

    /// On held-out digits, removing what the LRP composite calls relevant first lowers the logit
    /// faster than a random order and than the plain gradient's order.
    @Test func lrpCompositeIsMoreFaithfulThanRandomAndGradient() throws {
        let subject = try loadExplainSubject(checkpoint: try checkpoint().path)
        let rows = try subject.faithfulness(methods: [try ExplainMethod(parsing: "lrp"), .gradient, .random], examples: 100, steps: 8, removal: .noise)
        let aopc = rows.map(\.curve.areaOverThePerturbationCurve)
        #expect(aopc[0] > aopc[1] && aopc[0] > aopc[2], "AOPC lrp \(aopc[0]), gradient \(aopc[1]), random \(aopc[2])")
        #expect(rows.allSatisfy { $0.curve.fractionsRemoved.first == 0 && $0.curve.fractionsRemoved.last == 1 })
    }

    @Test func badInputIsRefusedByName() throws {
        let path = try checkpoint().path
        let directory = CommandLineTool.temporaryDirectory("explain-bad")
        defer { try? FileManager.default.removeItem(at: directory) }
        let png = directory.appendingPathComponent("h.png").path
        let wrongShape = directory.appendingPathComponent("wrong.npy").path
        let entry = CheckpointEntry(name: "wrong", dtype: .float32, shape: [64], bytes: [Float](repeating: 0, count: 64).withUnsafeBytes { Array($0) })
        try Data(try Numpy.encodeArray(entry)).write(to: URL(fileURLWithPath: wrongShape))
        let cases: [([String], [String])] = [
            (["--input", "0", "--composite", "epsilon-gama-box", "--output", png], ["epsilon-gama-box", "did you mean 'epsilonGammaBox'"]),
            (["--input", "0", "--method", "lrpp", "--output", png], ["lrpp", "did you mean 'lrp'"]),
            (["--input", "9999", "--output", png], ["--input 9999", "held-out set has"]),
            (["--input", wrongShape, "--output", png], ["wrong.npy", "[64]", "[1, 8, 8]"]),
            (["--input", "0", "--target", "10", "--output", png], ["--target 10", "10 classes"]),
            (["--input", "0", "--output", directory.appendingPathComponent("h.jpg").path], ["h.jpg", ".png"]),
        ]
        for (arguments, fragments) in cases {
            let result = try CommandLineTool.run(["explain", path] + arguments)
            #expect(result.status != 0, "\(arguments)")
            for fragment in fragments { #expect(result.errorOutput.contains(fragment), "\(arguments): \(result.errorOutput)") }
        }
        #expect(!FileManager.default.fileExists(atPath: png), "a refused request writes nothing")
    }

    @Test func checkpointOfATaskWithoutClassesIsRefused() throws {
        let directory = CommandLineTool.temporaryDirectory("explain-task")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("gpt.tsr").path
        let checkpoint = Checkpoint(metadata: ["kind": "tessera.training", "recipe": "task: language-model\nname: gpt\n", "progress": "{}"], entries: [])
        try checkpoint.write(to: path)
        let result = try CommandLineTool.run(["explain", path, "--input", "0"])
        #expect(result.status != 0)
        #expect(result.errorOutput.contains("gpt.tsr") && result.errorOutput.contains("language-model"))
    }
}

/// Training runs and `tessera explain` calls the explanation tests share.
enum ExplainRuns {
    /// Trains `recipe` with `options` into a fresh run directory; the checkpoint of `step`.
    static func train(_ recipe: String, named name: String, step: Int, _ options: [String]) throws -> URL {
        let directory = CommandLineTool.temporaryDirectory("explain-\(name)")
        let result = try CommandLineTool.run(["train", recipe, "--run-dir", directory.path, "--quiet"] + options)
        guard result.status == 0 else { throw TrainingError("training \(name) failed: \(result.errorOutput)") }
        return directory.appendingPathComponent(String(format: "checkpoints/step-%08d.tsr", step))
    }

    /// Runs `tessera explain CHECKPOINT arguments…` and returns its JSON line's fields.
    static func explain(_ checkpoint: URL, _ arguments: [String]) throws -> [String: Any] {
        let result = try CommandLineTool.run(["explain", checkpoint.path] + arguments)
        try #require(result.status == 0, "\(result.errorOutput)")
        let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8))
        return try #require(object as? [String: Any])
    }

    static func relevances(_ path: String) throws -> (shape: [Int], values: [Float]) {
        let entry = try Numpy.readArray(from: path)
        return (entry.shape, try entry.values(as: Float.self))
    }
}
