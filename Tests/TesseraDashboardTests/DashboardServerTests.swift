import Foundation
import Testing
@testable import TesseraDashboard
import TesseraTestSupport
import TesseraTraining

/// The dashboard server over a run directory that the test writes as a trainer would.
struct DashboardServerTests {
    private func runDirectory(_ name: String) throws -> RunDirectory {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-dashboard-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        return try RunDirectory(path: url.appendingPathComponent("digits").path)
    }

    @Test func eventStreamSendsTheHistoryThenEachNewRecord() throws {
        let run = try runDirectory("stream")
        try run.rewriteMetrics([MetricsRecord(step: 10, values: ["loss": 2.0]), MetricsRecord(step: 20, values: ["loss": 1.5])])
        let server = try DashboardServer.start(runs: [.init(directory: run.url, recipe: "name: digits\n")], port: 0, pollInterval: 0.05)
        defer { server.stop() }
        let client = try HTTPTestClient(port: server.port, path: "/events")
        #expect(client.read(until: { _ in !client.events(named: "snapshot").isEmpty }, seconds: 20), "received: \(client.text)")
        let snapshot = try #require(client.events(named: "snapshot").first)
        #expect(client.text.contains("Content-Type: text/event-stream") || client.text.contains("content-type: text/event-stream"))
        #expect(snapshot["recipe"] as? String == "name: digits\n")
        let loss = try #require((snapshot["metrics"] as? [String: Any])?["loss"] as? [[Any]])
        #expect(loss.map { ($0[0] as? NSNumber)?.intValue } == [10, 20])

        try run.appendMetrics(MetricsRecord(step: 30, values: ["loss": 1.25, "test_accuracy": 0.5]))
        try run.appendRankTimings(RankTimings(stepSeconds: [0.02, 0.03], allreduceSeconds: [0.012, 0.001]), step: 30)
        #expect(client.read(until: { _ in client.events(named: "update").contains { ($0["ranks"] as? [Any])?.isEmpty == false } }, seconds: 20))
        let updates = client.events(named: "update")
        let newLoss = updates.compactMap { ($0["metrics"] as? [String: Any])?["loss"] as? [[Any]] }.flatMap { $0 }
        #expect(newLoss.count == 1)
        #expect((newLoss.first?[1] as? NSNumber)?.doubleValue == 1.25)
        let rankRecords = updates.flatMap { $0["ranks"] as? [[String: Any]] ?? [] }
        let rank = try #require(rankRecords.first)
        // Rank 1 computed for 29 ms, rank 0 for 8 ms: rank 1 is the one the other waits for.
        #expect((rank["slowest"] as? NSNumber)?.intValue == 1)

        server.stop()
        #expect(client.read(until: { $0.contains("event: end") }, seconds: 20))
    }

    @Test func aClientThatLeavesMidStreamLeavesTheOthersServed() throws {
        let run = try runDirectory("leave")
        try run.rewriteMetrics([MetricsRecord(step: 1, values: ["loss": 1])])
        let server = try DashboardServer.start(runs: [.init(directory: run.url)], port: 0, pollInterval: 0.05)
        defer { server.stop() }
        let leaving = try HTTPTestClient(port: server.port, path: "/events")
        #expect(leaving.read(until: { $0.contains("event: snapshot") }, seconds: 20))
        leaving.disconnect()
        try run.appendMetrics(MetricsRecord(step: 2, values: ["loss": 0.5]))
        let staying = try HTTPTestClient(port: server.port, path: "/events")
        // The second point comes in the snapshot or, if the directory was not looked at since, in an update.
        #expect(staying.read(until: { _ in
            (staying.events(named: "snapshot") + staying.events(named: "update"))
                .compactMap { ($0["metrics"] as? [String: Any])?["loss"] as? [Any] }.reduce(0) { $0 + $1.count } == 2
        }, seconds: 20))
        let page = try HTTPTestClient.get(port: server.port, path: "/")
        #expect(page.status == 200)
        #expect(page.body.contains("<script src=\"/dashboard.js\">"))
    }

    @Test func metricsEndpointServesTheLatestValuesInPrometheusTextFormat() throws {
        let run = try runDirectory("prometheus")
        try run.rewriteMetrics([MetricsRecord(step: 10, values: ["loss": 2.0, "test_accuracy": 0.25]),
                                MetricsRecord(step: 40, values: ["loss": 0.75, "samples/s": 12])])
        try run.appendRankTimings(RankTimings(stepSeconds: [0.5, 0.25], allreduceSeconds: [0.125, 0.0625]), step: 40)
        let server = try DashboardServer.start(runs: [.init(directory: run.url)], port: 0, pollInterval: 0.05)
        defer { server.stop() }
        // The first look at the directory happens as the server starts; ask until it has.
        var samples: [String: Double] = [:], types: [String: String] = [:]
        for _ in 0..<100 where samples["tessera_run_steps_total{run=\"digits\"}"] == nil {
            let response = try HTTPTestClient.get(port: server.port, path: "/metrics")
            #expect(response.status == 200)
            (samples, types) = Self.parseExposition(response.body)
            if samples.isEmpty { usleep(50_000) }
        }
        #expect(samples["tessera_metric_loss{run=\"digits\"}"] == 0.75)
        #expect(samples["tessera_metric_test_accuracy{run=\"digits\"}"] == 0.25)
        #expect(samples["tessera_metric_samples_s{run=\"digits\"}"] == 12)
        #expect(samples["tessera_run_steps_total{run=\"digits\"}"] == 40)
        #expect(samples["tessera_rank_step_seconds{run=\"digits\",rank=\"1\"}"] == 0.25)
        #expect(samples["tessera_rank_allreduce_seconds{run=\"digits\",rank=\"0\"}"] == 0.125)
        #expect(types["tessera_metric_loss"] == "gauge")
        #expect(types["tessera_run_steps_total"] == "counter")
    }

    @Test func aPortInUseIsNamedWithAnotherToTry() throws {
        let run = try runDirectory("port")
        let first = try DashboardServer.start(runs: [.init(directory: run.url)], port: 0)
        defer { first.stop() }
        let error = #expect(throws: DashboardError.self) {
            try DashboardServer.start(runs: [.init(directory: run.url)], port: first.port)
        }
        #expect(error?.description.contains("127.0.0.1:\(first.port): the port is in use") == true)
        #expect(error?.description.contains("--dashboard \(first.port + 1)") == true)
    }

    @Test func lineReaderLeavesAPartLineForLaterAndRestartsOnARewrite() throws {
        let run = try runDirectory("lines")
        let url = run.url.appendingPathComponent("metrics.jsonl")
        try Data("{\"step\":1}\n{\"st".utf8).write(to: url)
        var reader = LineReader(url: url)
        #expect(reader.newLines().lines == ["{\"step\":1}"])
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("ep\":2}\n".utf8))
        try handle.close()
        #expect(reader.newLines().lines == ["{\"step\":2}"])
        try Data("{\"step\":1}\n{\"step\":2}\n{\"step\":3}\n".utf8).write(to: url, options: .atomic)
        let rewritten = reader.newLines()
        #expect(rewritten.restarted)
        #expect(rewritten.lines.count == 3)
    }

    /// `name{labels} value` samples and `# TYPE name kind` lines of Prometheus's text format.
    static func parseExposition(_ text: String) -> (samples: [String: Double], types: [String: String]) {
        var samples: [String: Double] = [:], types: [String: String] = [:]
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                if parts.count == 4 { types[String(parts[2])] = String(parts[3]) }
            } else if !line.hasPrefix("#"), let space = line.lastIndex(of: " ") {
                samples[String(line[..<space])] = Double(line[line.index(after: space)...])
            }
        }
        return (samples, types)
    }
}
