import Foundation
import Testing

/// A data-parallel job across two simulated hosts (network namespaces joined by a veth pair, each
/// with its own hostname, Open MPI over TCP only): nothing may assume shared memory or one host.
/// `deploy/two-hosts.sh` creates the namespaces and removes them afterwards.
/// (An extension of the serialized distributed suite, so it never runs beside another MPI job.)
extension DistributedTrainingTests {
    static func runTwoHostScript(_ arguments: [String]) throws -> CommandLineTool.Result {
        let process = Process()
        process.executableURL = CommandLineTool.repositoryRoot.appendingPathComponent("deploy/two-hosts.sh")
        process.arguments = arguments
        process.currentDirectoryURL = CommandLineTool.repositoryRoot
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return .init(status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
                     errorOutput: String(decoding: errorData, as: UTF8.self))
    }

    @Test(.enabled(if: getuid() == 0, "network namespaces need root"))
    func ranksRunOnTwoHostsAndTrainLikeLocalMode() throws {
        let hosts = try Self.runTwoHostScript(["-np", "2", "hostname"])
        #expect(hosts.status == 0, "\(hosts.errorOutput)")
        #expect(Set(hosts.output.split(separator: "\n").map(String.init)) == ["host-a", "host-b"])

        let binaries = try CommandLineTool.executableURL.deletingLastPathComponent()
        let twoHosts = CommandLineTool.temporaryDirectory("two-hosts"), local = CommandLineTool.temporaryDirectory("one-host")
        defer {
            try? FileManager.default.removeItem(at: twoHosts)
            try? FileManager.default.removeItem(at: local)
        }
        let recipe = ["configs/mlp-digits.yaml"] + DistributedTrainingTests.shortRun
        let job = try Self.runTwoHostScript(["-np", "1", binaries.appendingPathComponent("tessera-coordinator").path] + recipe
                                     + ["--run-dir", twoHosts.path, ":", "-np", "1", binaries.appendingPathComponent("tessera-worker").path])
        #expect(job.status == 0, "\(job.errorOutput)")
        #expect(job.output.contains("on 2 processes"))
        let reference = try CommandLineTool.run(["train"] + recipe + ["--run-dir", local.path])
        #expect(reference.status == 0)
        let (expected, actual) = (try DistributedTrainingTests.losses(local), try DistributedTrainingTests.losses(twoHosts))
        #expect(actual.count == expected.count)
        for step in expected.keys.sorted().prefix(50) {
            #expect(abs(expected[step]! - (actual[step] ?? .nan)) <= 1e-4 * abs(expected[step]!), "step \(step)")
        }
        // The namespaces are gone.
        let namespaces = Process()
        namespaces.executableURL = URL(fileURLWithPath: "/bin/sh")
        namespaces.arguments = ["-c", "ip netns list | grep -c tsr- || true"]
        let pipe = Pipe()
        namespaces.standardOutput = pipe
        try namespaces.run()
        namespaces.waitUntilExit()
        #expect(String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }
}
