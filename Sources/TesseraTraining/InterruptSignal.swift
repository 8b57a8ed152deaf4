import Foundation

/// Turns SIGINT and SIGTERM into a flag the training loop polls once per step, so an interrupted
/// run (Ctrl-C, a scheduler's pre-emption) saves a checkpoint before it exits instead of dying
/// mid-write. A second signal while the flag is set exits at once.
public enum InterruptSignal {
    /// The signal number received, or 0.
    nonisolated(unsafe) private static var received: Int32 = 0

    public static func install() {
        // A launcher may have started us with these signals blocked (the mask is inherited).
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGINT)
        sigaddset(&unblock, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber) { number in
                if InterruptSignal.received != 0 { _exit(128 + number) }
                InterruptSignal.received = number
            }
        }
    }

    /// The pending signal, if one arrived.
    public static var pending: Int32? { received == 0 ? nil : received }

    public static var pendingName: String {
        switch received {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        default: return "signal \(received)"
        }
    }
}
