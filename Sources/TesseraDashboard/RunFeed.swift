import Foundation
import Prometheus
import TesseraTraining

/// One run as the dashboard serves it: everything read from its directory so far, the clients
/// listening for what comes next, and the run's gauges on the Prometheus registry.
///
/// A client that subscribes gets the whole state as one `snapshot` event, then an `update` event
/// for each look at the directory that found something, then `end` when the server stops. Both
/// come from this actor, so no update falls between a snapshot and the next update.
actor RunFeed {
    nonisolated let name: String
    private let watcher: RunWatcher
    private let registry: PrometheusCollectorRegistry

    private var metrics: [String: [(step: Int, value: Double)]] = [:]
    private var ranks: [RankRecord] = []
    /// The newest version of each image, newest first.
    private var images: [ImageInfo] = []
    private var checkpoints: [CheckpointInfo] = []
    private var finished = false
    private var lastStep = 0
    private var subscribers: [UUID: AsyncStream<String>.Continuation] = [:]
    private var closed = false

    init(watcher: RunWatcher, registry: PrometheusCollectorRegistry) {
        name = watcher.name
        self.watcher = watcher
        self.registry = registry
    }

    /// The events for one client: the snapshot first.
    func subscribe() -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream<String>.makeStream()
        guard !closed else {
            continuation.yield(Self.event("snapshot", snapshotObject()))
            continuation.yield(Self.event("end", [:]))
            continuation.finish()
            return stream
        }
        let id = UUID()
        continuation.yield(Self.event("snapshot", snapshotObject()))
        continuation.onTermination = { [weak self] _ in
            Task { await self?.unsubscribe(id) }
        }
        subscribers[id] = continuation
        return stream
    }

    private func unsubscribe(_ id: UUID) { subscribers[id] = nil }

    var subscriberCount: Int { subscribers.count }

    /// Looks at the directory once and sends what is new to every client.
    func poll() {
        let changes = watcher.poll()
        guard !changes.isEmpty else { return }
        if changes.restarted { metrics = [:] }
        for record in changes.metrics {
            for (key, value) in record.values { metrics[key, default: []].append((record.step, value)) }
        }
        if changes.ranksRestarted { ranks = [] }
        ranks += changes.ranks
        for image in changes.images {
            images.removeAll { $0.name == image.name }
            images.append(image)
        }
        images.sort { $0.modified > $1.modified }
        if let list = changes.checkpoints { checkpoints = list }
        if let isFinished = changes.finished { finished = isFinished }
        updateGauges(changes)

        var update: [String: Any] = ["restarted": changes.restarted, "ranksRestarted": changes.ranksRestarted]
        update["metrics"] = Self.metricsObject(changes.metrics)
        update["ranks"] = changes.ranks.map(Self.rankObject)
        update["images"] = changes.images.map(Self.imageObject)
        if let list = changes.checkpoints { update["checkpoints"] = list.map(Self.checkpointObject) }
        if let recipe = changes.recipe { update["recipe"] = recipe }
        if let isFinished = changes.finished { update["finished"] = isFinished }
        let message = Self.event("update", update)
        for continuation in subscribers.values { continuation.yield(message) }
    }

    /// A comment line: keeps proxies from closing a quiet stream and finds clients that left.
    func heartbeat() {
        for continuation in subscribers.values { continuation.yield(": still here\n\n") }
    }

    /// Sends `end` to every client and closes their streams.
    func close() {
        closed = true
        for continuation in subscribers.values {
            continuation.yield(Self.event("end", [:]))
            continuation.finish()
        }
        subscribers = [:]
    }

    /// Whether `file` is an image of this run the page may show (a PNG directly in the run directory).
    func servesImage(_ file: String) -> URL? {
        images.contains { $0.name == file } ? watcher.directory.appendingPathComponent(file) : nil
    }

    /// The run's latest state for `/api/runs`.
    func summaryObject() -> [String: Any] {
        ["name": name, "finished": finished, "step": lastStep, "metrics": metrics.keys.sorted()]
    }

    // MARK: - Prometheus

    private func updateGauges(_ changes: RunChanges) {
        let runLabel = [("run", name)]
        for record in changes.metrics {
            for (key, value) in record.values {
                // Under their own prefix, so no metric's name can meet the run's other families
                // (the registry stops the process on a name registered twice with another type or help).
                let metricName = "tessera_metric_" + Self.prometheusName(key)
                registry.makeGauge(name: metricName, labels: runLabel, help: "The latest logged value of \(metricName) (metrics.jsonl).").set(value)
            }
        }
        let steps = registry.makeCounter(name: "tessera_run_steps_total", labels: runLabel, help: "The last step the run logged.")
        if changes.restarted {
            steps.reset()
            lastStep = 0
        }
        if let step = changes.metrics.map(\.step).max(), step > lastStep {
            steps.increment(by: Int64(step - lastStep))
            lastStep = step
        }
        if let latest = changes.ranks.last {
            for (rank, seconds) in latest.timings.stepSeconds.enumerated() {
                let labels = runLabel + [("rank", String(rank))]
                registry.makeGauge(name: "tessera_rank_step_seconds", labels: labels,
                                   help: "Mean seconds per training step on this rank since the last log line.").set(seconds)
                registry.makeGauge(name: "tessera_rank_allreduce_seconds", labels: labels,
                                   help: "Mean seconds per step this rank waited for the gradient allreduce.")
                    .set(latest.timings.allreduceSeconds[rank])
            }
        }
        registry.makeGauge(name: "tessera_run_finished", labels: runLabel, help: "1 once summary.json is written.")
            .set(to: finished ? 1.0 : 0.0)
    }

    /// Prometheus names are `[a-zA-Z_:][a-zA-Z0-9_:]*`; anything else becomes `_`.
    static func prometheusName(_ key: String) -> String {
        String(key.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") ? $0 : "_" })
    }

    // MARK: - Events

    private func snapshotObject() -> [String: Any] {
        var object: [String: Any] = ["run": name, "finished": finished, "closed": closed]
        var series: [String: Any] = [:]
        for (key, points) in metrics { series[key] = points.map { [$0.step, Self.number($0.value)] } }
        object["metrics"] = series
        object["ranks"] = ranks.map(Self.rankObject)
        object["images"] = images.map(Self.imageObject)
        object["checkpoints"] = checkpoints.map(Self.checkpointObject)
        object["recipe"] = watcher.recipe ?? NSNull()
        return object
    }

    private static func metricsObject(_ records: [MetricsRecord]) -> [String: Any] {
        var series: [String: [[Any]]] = [:]
        for record in records {
            for (key, value) in record.values { series[key, default: []].append([record.step, number(value)]) }
        }
        return series
    }

    private static func rankObject(_ record: RankRecord) -> [String: Any] {
        ["step": record.step, "step_seconds": record.timings.stepSeconds.map(number),
         "allreduce_seconds": record.timings.allreduceSeconds.map(number), "slowest": record.timings.slowestRank]
    }

    private static func imageObject(_ image: ImageInfo) -> [String: Any] { ["name": image.name, "modified": image.modified] }

    private static func checkpointObject(_ checkpoint: CheckpointInfo) -> [String: Any] {
        ["name": checkpoint.name, "step": checkpoint.step, "bytes": checkpoint.bytes, "modified": checkpoint.modified,
         "best": checkpoint.isBest]
    }

    /// JSON has no NaN or infinity: they are sent as null (a gap in the curve).
    private static func number(_ value: Double) -> Any { value.isFinite ? value : NSNull() }

    /// One server-sent event: `event: NAME` and the JSON on one `data:` line.
    static func event(_ name: String, _ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return "event: \(name)\ndata: \(String(decoding: data, as: UTF8.self))\n\n"
    }
}
