import Foundation

/// Reports progress: on a terminal a live line rewritten in place (step, epoch, loss, samples/s,
/// ETA); otherwise one plain log line per report, which reads well in files and CI logs.
///
/// Under `mpirun` a rank's standard output is a pseudo-terminal even when the launcher's is a file
/// (`make train > log`), so the launcher says which it is in `TESSERA_PROGRESS` (`live` or
/// `lines`); without it the rank asks its own standard output.
public struct ProgressReporter {
    public let isTerminal: Bool
    public let enabled: Bool
    private var lineIsOpen = false

    /// The environment variable a launcher sets for its ranks: `live` or `lines`.
    public static let styleVariable = "TESSERA_PROGRESS"

    public init(enabled: Bool = true) {
        self.enabled = enabled
        switch ProcessInfo.processInfo.environment[Self.styleVariable] {
        case "lines": isTerminal = false
        case "live": isTerminal = true
        default: isTerminal = isatty(STDOUT_FILENO) == 1
        }
    }

    public mutating func update(step: Int, totalSteps: Int, epoch: Int, values: [(String, Double)],
                                samplesPerSecond: Double, elapsedSeconds: Double) {
        guard enabled else { return }
        let remaining = step > 0 ? elapsedSeconds / Double(step) * Double(totalSteps - step) : 0
        let fields = values.map { "\($0.0) \(format($0.1))" }.joined(separator: "  ")
        let line = "step \(step)/\(totalSteps)  epoch \(epoch)  \(fields)  \(Int(samplesPerSecond)) samples/s  ETA \(formatDuration(remaining))"
        if isTerminal {
            print("\r\u{1B}[2K" + line, terminator: "")
            lineIsOpen = true
        } else {
            print(line)
        }
        fflush(stdout)
    }

    /// Prints a message on its own line (closing the live line first).
    public mutating func log(_ message: String) {
        guard enabled else { return }
        if lineIsOpen { print("") ; lineIsOpen = false }
        print(message)
        fflush(stdout)
    }

    public mutating func finish() {
        if lineIsOpen { print(""); lineIsOpen = false }
    }

    private func format(_ value: Double) -> String {
        abs(value) >= 1000 || (abs(value) < 1e-3 && value != 0) ? String(format: "%.3e", value) : String(format: "%.4f", value)
    }
}

func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "?" }
    let total = Int(seconds.rounded())
    return total >= 3600 ? String(format: "%dh%02dm", total / 3600, total % 3600 / 60)
        : String(format: "%dm%02ds", total / 60, total % 60)
}
