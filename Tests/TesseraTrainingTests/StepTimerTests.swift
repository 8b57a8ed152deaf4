import Foundation
import Testing
import TesseraTraining

/// `StepTimer` and `ranks.jsonl`: what one process records, and a resume's truncation.
struct StepTimerTests {
    @Test func oneProcessRecordsItsStepWithTheWaitInsideIt() throws {
        var timer = StepTimer()
        for _ in 0..<3 {
            timer.startStep()
            timer.allreduce { usleep(2_000) }
            timer.endStep()
        }
        let timings = try #require(try timer.collect(nil))
        #expect(timings.stepSeconds.count == 1 && timings.allreduceSeconds.count == 1)
        #expect(timings.allreduceSeconds[0] >= 0.002)
        #expect(timings.stepSeconds[0] >= timings.allreduceSeconds[0])
        // Nothing timed since: no line.
        #expect(try timer.collect(nil) == nil)
    }

    @Test func slowestRankIsTheLongestComputeNotTheLongestStep() {
        // Rank 0 waited 40 ms for rank 1, which computed 45 ms.
        let timings = RankTimings(stepSeconds: [0.05, 0.048], allreduceSeconds: [0.04, 0.003])
        #expect(timings.slowestRank == 1)
        #expect(timings.jsonLine(step: 7) == "{\"step\":7,\"step_seconds\":[0.05,0.048],\"allreduce_seconds\":[0.04,0.003]}")
    }

    @Test func aResumeDropsTheTimingLinesAfterItsCheckpoint() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-ranks-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let run = try RunDirectory(path: directory.path)
        for step in [10, 20, 30] {
            try run.appendRankTimings(RankTimings(stepSeconds: [0.1, 0.2], allreduceSeconds: [0.01, 0.02]), step: step)
        }
        try run.rewriteMetrics([MetricsRecord(step: 10, values: ["loss": 1]), MetricsRecord(step: 20, values: ["loss": 0.5])])
        let lines = try String(contentsOf: run.ranksURL, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.last?.hasPrefix("{\"step\":20,") == true)
    }
}
