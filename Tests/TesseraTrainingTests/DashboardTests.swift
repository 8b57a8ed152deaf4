import Foundation
#if canImport(Glibc)
import Glibc
#endif
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
        // The launcher hands SIGINT to mpirun as SIGUSR1; the ranks stop as on SIGTERM.
        #expect(training.waitForExit(seconds: 120) == 143)
        let lines = try String(contentsOf: run.appendingPathComponent("ranks.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count >= 2)
        #expect(lines.allSatisfy { $0.contains("\"step_seconds\":[") && $0.split(separator: ",").count >= 5 })
    }

    @Test func aPortInUseStopsTheRunBeforeItWritesAnything() throws {
        let directory = CommandLineTool.temporaryDirectory("dashboard-port")
        let finished = directory.appendingPathComponent("finished")
        try FileManager.default.createDirectory(at: finished, withIntermediateDirectories: true)
        try Data("{\"step\":1,\"loss\":1.0}\n".utf8).write(to: finished.appendingPathComponent("metrics.jsonl"))
        let serving = try LiveTraining(["dashboard", finished.path, "--port", "0"])
        defer { serving.interrupt() }
        let port = try serving.dashboardPort()
        let run = directory.appendingPathComponent("run")
        let result = try CommandLineTool.run(["train", "configs/mlp-digits.yaml", "--run-dir", run.path, "--dashboard", String(port)])
        #expect(result.status != 0)
        #expect(result.errorOutput.contains("127.0.0.1:\(port): the port is in use"), "\(result.errorOutput)")
        #expect(result.errorOutput.contains("--dashboard 0 for a free one"))
        #expect(!FileManager.default.fileExists(atPath: run.path))
        serving.interrupt()
        #expect(serving.waitForExit(seconds: 30) == 0, "tessera dashboard stops cleanly on SIGINT")

        let notARun = try CommandLineTool.run(["dashboard", directory.appendingPathComponent("missing").path])
        #expect(notARun.status != 0)
        #expect(notARun.errorOutput.contains("missing: no such directory"))
    }

    /// Debian's `chromium` opens the page while the run trains and the test reads the page's
    /// own state over the DevTools protocol (`--remote-debugging-pipe`): the page names the
    /// recipe, its curves hold points, and more arrive while it stays open (the event stream,
    /// not a reload). The screenshot is saved next to the run (its path is printed).
    static let chromiumPath = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: FileManager.default.isExecutableFile)

    @Test(.enabled(if: chromiumPath != nil, "skipped: headless Chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)"))
    func headlessChromiumShowsTheRecipeAndAGrowingCurve() throws {
        let directory = CommandLineTool.temporaryDirectory("dashboard-chromium")
        let training = try LiveTraining(Self.arguments(directory.appendingPathComponent("run")))
        defer { training.interrupt() }
        let port = try training.dashboardPort()
        let browser = try HeadlessChromium(path: try #require(Self.chromiumPath), userData: directory.appendingPathComponent("chromium").path)
        defer { browser.close() }
        let page = try browser.open("http://127.0.0.1:\(port)/")

        func shown() throws -> (points: Int, lossPoints: Int, run: String, title: String) {
            let text = try browser.evaluate("""
                JSON.stringify({ points: Number(document.body.dataset.points), run: document.body.dataset.run,
                                 title: document.getElementById("run-name").textContent,
                                 loss: Number((document.querySelector('[data-metric="loss"]') || { dataset: {} }).dataset.points || 0) })
                """, in: page)
            // Empty until the page has a body (the expression throws before that).
            let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
            return ((object["points"] as? NSNumber)?.intValue ?? 0, (object["loss"] as? NSNumber)?.intValue ?? 0,
                    object["run"] as? String ?? "", object["title"] as? String ?? "")
        }
        func wait(seconds: Double, until condition: ((points: Int, lossPoints: Int, run: String, title: String)) -> Bool) throws -> (points: Int, lossPoints: Int, run: String, title: String) {
            let deadline = Date().addingTimeInterval(seconds)
            var state = try shown()
            while !condition(state) && Date() < deadline {
                usleep(200_000)
                state = try shown()
            }
            return state
        }
        let first = try wait(seconds: 60) { $0.lossPoints > 0 }
        #expect(first.lossPoints > 0, "the page shows no loss points")
        #expect(first.run == "mlp-digits")
        #expect(first.title == "mlp-digits")
        let later = try wait(seconds: 120) { $0.lossPoints >= first.lossPoints + 3 }
        #expect(later.lossPoints >= first.lossPoints + 3, "the loss curve did not grow: \(first.lossPoints) then \(later.lossPoints) points")
        #expect(later.points > first.points)

        let screenshot = directory.appendingPathComponent("dashboard.png")
        try browser.screenshot(of: page).write(to: screenshot)
        let png = try Data(contentsOf: screenshot)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 10_000)
        print("dashboard screenshot: \(screenshot.path)")
        training.interrupt()
        #expect(training.waitForExit(seconds: 60) == 130)
    }
}

/// Headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`:
/// JSON messages ended by NUL, commands on its descriptor 3, answers on 4), so a test can read
/// a live page's state as often as it likes. Every wait has a deadline.
final class HeadlessChromium {
    private var process: pid_t = 0
    private let commands: Int32, answers: Int32
    private var buffer: [UInt8] = []
    private var lastID = 0

    init(path: String, userData: String) throws {
        var commandPipe: [Int32] = [0, 0], answerPipe: [Int32] = [0, 0]
        guard pipe(&commandPipe) == 0, pipe(&answerPipe) == 0 else { throw HTTPTestError("pipe(): errno \(errno)") }
        // Out of the way of descriptors 3 and 4, which the child's dup2 calls write.
        let childReads = fcntl(commandPipe[0], F_DUPFD, 10), childWrites = fcntl(answerPipe[1], F_DUPFD, 10)
        Glibc.close(commandPipe[0]); Glibc.close(answerPipe[1])
        commands = commandPipe[1]
        answers = answerPipe[0]
        _ = fcntl(commands, F_SETFD, FD_CLOEXEC)
        _ = fcntl(answers, F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, childReads, 3)
        posix_spawn_file_actions_adddup2(&actions, childWrites, 4)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let arguments = [path, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                         "--remote-debugging-pipe", "--user-data-dir=\(userData)", "--window-size=1400,1700", "about:blank"]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let status = posix_spawn(&process, path, &actions, nil, &argv, environ)
        Glibc.close(childReads); Glibc.close(childWrites)
        guard status == 0 else { throw HTTPTestError("cannot start \(path): \(status)") }
    }

    /// Opens `url` in a new tab; returns the session to talk to it.
    func open(_ url: String) throws -> String {
        let target = try call("Target.createTarget", ["url": url])
        let targetID = try #require(target["targetId"] as? String)
        return try #require(try call("Target.attachToTarget", ["targetId": targetID, "flatten": true])["sessionId"] as? String)
    }

    /// The value of a JavaScript expression that yields a string.
    func evaluate(_ expression: String, in session: String) throws -> String {
        let answer = try call("Runtime.evaluate", ["expression": expression, "returnByValue": true], session: session)
        return (answer["result"] as? [String: Any])?["value"] as? String ?? ""
    }

    func screenshot(of session: String) throws -> Data {
        let answer = try call("Page.captureScreenshot", ["format": "png"], session: session)
        return try #require(Data(base64Encoded: answer["data"] as? String ?? ""))
    }

    func close() {
        guard process > 0 else { return }
        _ = try? call("Browser.close", [:], seconds: 10)
        var status: Int32 = 0
        for _ in 0..<100 where waitpid(process, &status, WNOHANG) == 0 { usleep(50_000) }
        if waitpid(process, &status, WNOHANG) == 0 {
            kill(process, SIGKILL)
            waitpid(process, &status, 0)
        }
        process = 0
        Glibc.close(commands)
        Glibc.close(answers)
    }

    deinit { close() }

    private func call(_ method: String, _ parameters: [String: Any], session: String? = nil, seconds: Double = 30) throws -> [String: Any] {
        lastID += 1
        var message: [String: Any] = ["id": lastID, "method": method, "params": parameters]
        if let session { message["sessionId"] = session }
        let bytes = Array(try JSONSerialization.data(withJSONObject: message)) + [0]
        guard bytes.withUnsafeBytes({ write(commands, $0.baseAddress, $0.count) }) == bytes.count else {
            throw HTTPTestError("\(method): cannot write to chromium")
        }
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            while let end = buffer.firstIndex(of: 0) {
                let text = Data(buffer[..<end])
                buffer.removeSubrange(...end)
                guard let object = try JSONSerialization.jsonObject(with: text) as? [String: Any],
                      (object["id"] as? NSNumber)?.intValue == lastID else { continue }
                if let error = object["error"] { throw HTTPTestError("\(method): \(error)") }
                return object["result"] as? [String: Any] ?? [:]
            }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw HTTPTestError("\(method): no answer from chromium within \(seconds) s") }
            var descriptor = pollfd(fd: answers, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, Int32(min(remaining, 1) * 1000)) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let count = read(answers, &chunk, chunk.count)
            guard count > 0 else { throw HTTPTestError("\(method): chromium closed the pipe") }
            buffer += chunk[0..<count]
        }
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
