import Foundation
import Hummingbird
import Logging
import Prometheus

/// The live dashboard of one or more runs: a web page whose curves, per-rank timings, images,
/// checkpoints and recipe follow the run directories as the trainer writes them, by server-sent
/// events, and a Prometheus text endpoint.
///
///     let server = try DashboardServer.start(runs: [.init(directory: url, recipe: yaml)], port: 0)
///     print("dashboard: \(server.url)")
///     // … train …
///     server.stop()
///
/// Routes: `/` (the page), `/dashboard.js`, `/events?run=NAME` (the event stream), `/api/runs`,
/// `/runs/NAME/images/FILE.png` (images the run wrote), `/metrics` (Prometheus text format: each
/// logged scalar's latest value as `tessera_metric_<name>{run="…"}`, the last step as the counter
/// `tessera_run_steps_total`, per-rank step and allreduce seconds, `tessera_run_finished`).
///
/// It reads the run directories every `pollInterval` seconds on its own threads (SwiftNIO's), so
/// training never waits for it, and a client that goes away only ends its own stream.
public final class DashboardServer: @unchecked Sendable {
    /// A run to show: its directory, the name the page and the labels give it (the directory's
    /// name by default), and the resolved recipe if the caller has it (else the newest
    /// checkpoint's).
    public struct Run {
        public var directory: URL
        public var name: String?
        public var recipe: String?

        public init(directory: URL, name: String? = nil, recipe: String? = nil) {
            self.directory = directory
            self.name = name
            self.recipe = recipe
        }
    }

    /// Where it listens, e.g. `http://127.0.0.1:8321/`.
    public let url: String
    public let port: Int
    private let feeds: [RunFeed]
    private let task: Task<Void, Never>
    private let stopped = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var isStopped = false

    private let executor: DashboardExecutor

    private init(url: String, port: Int, feeds: [RunFeed], task: Task<Void, Never>, executor: DashboardExecutor) {
        self.executor = executor
        self.url = url
        self.port = port
        self.feeds = feeds
        self.task = task
    }

    /// Starts serving `runs` on `host`:`port` (0: a free port) and returns once it listens.
    /// Throws a `TrainingError`-style message naming the address when it cannot bind.
    public static func start(runs: [Run], host: String = "127.0.0.1", port: Int, pollInterval: Double = 0.25) throws -> DashboardServer {
        guard !runs.isEmpty else { throw DashboardError("the dashboard needs at least one run directory") }
        guard (0...65535).contains(port) else { throw DashboardError("--dashboard: port \(port) is not between 0 and 65535") }
        let registry = PrometheusCollectorRegistry()
        var names = Set<String>()
        let feeds = try runs.map { run -> RunFeed in
            let watcher = RunWatcher(directory: run.directory, name: run.name, recipe: run.recipe)
            guard names.insert(watcher.name).inserted else { throw DashboardError("two runs are named '\(watcher.name)'") }
            return RunFeed(watcher: watcher, registry: registry)
        }
        let router = DashboardRoutes(feeds: feeds, registry: registry).router()
        var logger = Logger(label: "tessera.dashboard")
        logger.logLevel = .critical

        let started = StartSignal()
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: nil),
                              onServerRunning: { channel in started.succeed(port: channel.localAddress?.port ?? port) },
                              logger: logger)
        let executor = DashboardExecutor()
        let task = Task.detached(executorPreference: executor) {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    do { try await app.run() } catch { started.fail(error) }
                    started.fail(DashboardError("the server stopped before it listened"))
                }
                group.addTask {
                    // First look at once, so the page has the history when it first asks.
                    var beats = 0
                    while !Task.isCancelled {
                        for feed in feeds { await feed.poll() }
                        beats += 1
                        if beats % max(1, Int(10 / pollInterval)) == 0 { for feed in feeds { await feed.heartbeat() } }
                        try? await Task.sleep(nanoseconds: UInt64(pollInterval * 1e9))
                    }
                }
            }
        }
        switch started.wait() {
        case .success(let boundPort):
            let shownHost = host.contains(":") ? "[\(host)]" : host
            let server = DashboardServer(url: "http://\(shownHost):\(boundPort)/", port: boundPort, feeds: feeds, task: task,
                                         executor: executor)
            Task.detached(executorPreference: executor) { [server] in
                await task.value
                server.stopped.signal()
            }
            return server
        case .failure(let error):
            task.cancel()
            throw DashboardError(bindFailure: error, host: host, port: port)
        }
    }

    /// Reads the run directories once more (so the page gets the last points and "finished"),
    /// ends every client's stream, and stops listening. Waits at most `timeout` seconds.
    public func stop(timeout: Double = 5) {
        lock.lock()
        let already = isStopped
        isStopped = true
        lock.unlock()
        guard !already else { return }
        let closed = DispatchSemaphore(value: 0)
        Task.detached(executorPreference: executor) { [feeds] in
            for feed in feeds {
                await feed.poll()
                await feed.close()
            }
            closed.signal()
        }
        _ = closed.wait(timeout: .now() + timeout)
        task.cancel()
        _ = stopped.wait(timeout: .now() + timeout)
    }

    /// Serves until SIGINT or SIGTERM, then stops (`tessera dashboard`).
    public func waitForInterrupt() {
        let interrupted = DispatchSemaphore(value: 0)
        var sources: [DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { interrupted.signal() }
            source.resume()
            sources.append(source)
        }
        interrupted.wait()
        stop()
        for source in sources { source.cancel() }
    }

    deinit { task.cancel() }
}

/// Where the server's tasks and its feeds' actors run: threads of its own (Dispatch's), not
/// Swift's cooperative pool, so a caller that blocks the pool's few threads (a synchronous
/// test, a library user's own work) cannot starve the dashboard, nor the dashboard them.
final class DashboardExecutor: TaskExecutor, @unchecked Sendable {
    private let queue = DispatchQueue(label: "tessera.dashboard", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// The outcome of starting: the bound port, or why not, handed from the server's task to `start`.
private final class StartSignal: @unchecked Sendable {
    private let lock = NSLock()
    private let semaphore = DispatchSemaphore(value: 0)
    private var result: Result<Int, Error>?

    func succeed(port: Int) { set(.success(port)) }
    func fail(_ error: Error) { set(.failure(error)) }

    private func set(_ value: Result<Int, Error>) {
        lock.lock()
        defer { lock.unlock() }
        guard result == nil else { return }
        result = value
        semaphore.signal()
    }

    func wait() -> Result<Int, Error> {
        semaphore.wait()
        lock.lock()
        defer { lock.unlock() }
        return result!
    }
}

/// A dashboard problem, with a message for the user.
public struct DashboardError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }

    init(bindFailure error: Error, host: String, port: Int) {
        let text = "\(error)"
        if text.contains("in use") || text.contains("EADDRINUSE") || text.contains("errno: 98") {
            let another = port == 0 ? "" : " (e.g. --dashboard \(port + 1)), or --dashboard 0 for a free one"
            description = "cannot serve the dashboard on \(host):\(port): the port is in use; pick another port\(another)"
        } else {
            description = "cannot serve the dashboard on \(host):\(port): \(text)"
        }
    }
}
