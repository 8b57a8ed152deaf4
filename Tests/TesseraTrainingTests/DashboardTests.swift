import Foundation
import Testing
import TesseraTestSupport

/// `tessera train --dashboard`: the page and its event stream while a real run trains, one
/// process and two under mpirun, and the page itself in headless Chromium. Each run is long
/// enough to watch and is stopped with SIGINT once the test has seen what it needs (the trainer
/// saves a checkpoint and exits; the server stops with it).
@Suite(.serialized)
struct DashboardTests {
    /// A run of the MLP recipe that logs every 5 steps and would go on for minutes.
    private static func arguments(_ directory: URL, np: Int? = nil) -> [String] {
        ["train", "configs/mlp-digits.yaml", "--run-dir", directory.path, "--quiet", "--dashboard", "0",
         "--set", "training.epochs=2000", "--set", "training.logEvery=5", "--set", "training.evaluateEvery=50"]
            + (np.map { ["--np", String($0)] } ?? [])
    }

    @Test func eventStreamCarriesLivePointsThatGrow() throws {
        let directory = CommandLineTool.temporaryDirectory("dashboard-stream")
        let training = try LiveTraining(Self.arguments(directory.appendingPathComponent("run")))
        defer { training.interrupt() }
        let port = try training.dashboardPort()

        let page = try HTTPTestClient.get(port: port, path: "/")
        #expect(page.status == 200)
        let script = try HTTPTestClient.get(port: port, path: "/dashboard.js")
        #expect(script.body.contains("new EventSource"))

        let stream = try HTTPTestClient(port: port, path: "/events")
        func lossPoints() -> Int {
            let snapshot = (stream.events(named: "snapshot").first?["metrics"] as? [String: Any])?["loss"] as? [Any]
            let updates = stream.events(named: "update").compactMap { ($0["metrics"] as? [String: Any])?["loss"] as? [Any] }
            return (snapshot?.count ?? 0) + updates.reduce(0) { $0 + $1.count }
        }
        #expect(stream.read(until: { _ in !stream.events(named: "snapshot").isEmpty }, seconds: 60))
        let snapshot = try #require(stream.events(named: "snapshot").first)
        #expect((snapshot["recipe"] as? String)?.contains("name: mlp-digits") == true)
        let first = lossPoints()
        // Points that arrive after the snapshot come as updates: the curve grows while we watch.
        #expect(stream.read(until: { _ in lossPoints() >= first + 3 }, seconds: 120))
        #expect(stream.events(named: "update").contains { ($0["metrics"] as? [String: Any])?["loss"] != nil })

        training.interrupt()
        #expect(stream.read(until: { $0.contains("event: end") }, seconds: 60), "the server sends end when training stops")
        #expect(training.waitForExit(seconds: 60) == 130)
    }

    @Test func twoProcessesShowEachRanksStepTime() throws {
        let directory = CommandLineTool.temporaryDirectory("dashboard-ranks")
        let run = directory.appendingPathComponent("run")
        let training = try LiveTraining(Self.arguments(run, np: 2))
        defer { training.interrupt() }
        let port = try training.dashboardPort()
        let stream = try HTTPTestClient(port: port, path: "/events")
        func rankRecords() -> [[String: Any]] {
            let snapshot = stream.events(named: "snapshot").first?["ranks"] as? [[String: Any]] ?? []
            return snapshot + stream.events(named: "update").flatMap { $0["ranks"] as? [[String: Any]] ?? [] }
        }
        #expect(stream.read(until: { _ in rankRecords().count >= 2 }, seconds: 180))
        for record in rankRecords() {
            let steps = record["step_seconds"] as? [NSNumber] ?? [], waits = record["allreduce_seconds"] as? [NSNumber] ?? []
            #expect(steps.count == 2 && waits.count == 2, "one entry per rank: \(record)")
            #expect(steps.allSatisfy { $0.doubleValue > 0 })
            // The allreduce wait is part of the step.
            #expect(zip(steps, waits).allSatisfy { $0.doubleValue >= $1.doubleValue })
            #expect([0, 1].contains((record["slowest"] as? NSNumber)?.intValue ?? -1))
        }
        let metrics = try HTTPTestClient.get(port: port, path: "/metrics").body
        #expect(metrics.contains("tessera_rank_step_seconds{run=\"run\",rank=\"0\"}"))
        #expect(metrics.contains("tessera_rank_step_seconds{run=\"run\",rank=\"1\"}"))
        training.interrupt()
        #expect(training.waitForExit(seconds: 120) == 130)
        let lines = try String(contentsOf: run.appendingPathComponent("ranks.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count >= 2)
        #expect(lines.allSatisfy { $0.contains("\"step_seconds\":[") && $0.split(separator: ",").count >= 5 })
    }

    /// Debian's `chromium` loads the page twice while the run trains: the page names the recipe,
    /// its curves hold points, and more of them the second time. The screenshot is saved next to
    /// the run (its path is printed).
    static let chromiumPath = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: FileManager.default.isExecutableFile)

    @Test(.enabled(if: chromiumPath != nil, "skipped: headless Chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)"))
    func headlessChromiumShowsTheRecipeAndAGrowingCurve() throws {
        let chromium = try #require(Self.chromiumPath)
        let directory = CommandLineTool.temporaryDirectory("dashboard-chromium")
        let training = try LiveTraining(Self.arguments(directory.appendingPathComponent("run")))
        defer { training.interrupt() }
        let port = try training.dashboardPort()
        let url = "http://127.0.0.1:\(port)/"

        func pointsShown() throws -> (points: Int, run: String, dom: String) {
            let dom = try Self.chromium(chromium, ["--dump-dom", url])
            let points = Self.attribute("data-points", in: dom).flatMap(Int.init) ?? -1
            return (points, Self.attribute("data-run", in: dom) ?? "", dom)
        }
        var first = try pointsShown()
        // The first load may come before the first log line; load until points show.
        for _ in 0..<10 where first.points <= 0 { first = try pointsShown() }
        #expect(first.points > 0, "the page shows no points: \(first.dom.prefix(2000))")
        #expect(first.run == "mlp-digits")
        #expect(first.dom.contains("<h1 id=\"run-name\">mlp-digits</h1>"))
        var second = try pointsShown()
        for _ in 0..<10 where second.points <= first.points { second = try pointsShown() }
        #expect(second.points > first.points, "the curve did not grow: \(first.points) then \(second.points) points")

        let screenshot = directory.appendingPathComponent("dashboard.png")
        _ = try Self.chromium(chromium, ["--screenshot=\(screenshot.path)", "--window-size=1400,1700", url])
        let png = try Data(contentsOf: screenshot)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        print("dashboard screenshot: \(screenshot.path)")
        training.interrupt()
        #expect(training.waitForExit(seconds: 60) == 130)
    }

    /// Runs headless Chromium on the page with 4 s of virtual time for its script to connect and
    /// draw; returns its standard output.
    static func chromium(_ path: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                             "--virtual-time-budget=4000", "--user-data-dir=\(FileManager.default.temporaryDirectory.path)/tessera-chromium-\(getpid())"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 90, execute: watchdog)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        watchdog.cancel()
        return String(decoding: data, as: UTF8.self)
    }

    static func attribute(_ name: String, in dom: String) -> String? {
        guard let start = dom.range(of: "\(name)=\"") else { return nil }
        return String(dom[start.upperBound...].prefix { $0 != "\"" })
    }
}

/// A `tessera train` process whose output is read as it comes, so the test can find the
/// dashboard's address and stop the run when it has seen enough.
final class LiveTraining {
    private let process: Process
    private let lock = NSLock()
    private var output = ""

    init(_ arguments: [String]) throws {
        let (process, standardOutput, standardError) = try CommandLineTool.start(arguments)
        self.process = process
        for pipe in [standardOutput, standardError] {
            pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
                let data = handle.availableData
                if data.isEmpty { handle.readabilityHandler = nil; return }
                guard let self else { return }
                self.lock.lock()
                self.output += String(decoding: data, as: UTF8.self)
                self.lock.unlock()
            }
        }
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return output
    }

    /// The port of the `dashboard: http://127.0.0.1:PORT/` line.
    func dashboardPort(seconds: Double = 120) throws -> Int {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let range = text.range(of: "dashboard: http://127.0.0.1:") {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                if let port = Int(digits), text[range.upperBound...].dropFirst(digits.count).first == "/" { return port }
            }
            guard process.isRunning else { break }
            usleep(20_000)
        }
        throw HTTPTestError("no dashboard line from tessera train: \(text)")
    }

    func interrupt() {
        if process.isRunning { kill(process.processIdentifier, SIGINT) }
    }

    /// The exit status, or nil if it is still running after `seconds` (then it is killed).
    func waitForExit(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        guard !process.isRunning else {
            process.terminate()
            return nil
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
