import Foundation

/// Turns SIGINT and SIGTERM into a flag the training loop polls once per step, so an interrupted
/// run (Ctrl-C, a scheduler's pre-emption) saves a checkpoint before it exits instead of dying
/// mid-write. A second signal while the flag is set exits at once.
///
/// SIGUSR1 counts as SIGTERM: `mpirun` does not pass SIGTERM on to the ranks (it starts tearing
/// the job down instead) but it does forward SIGUSR1, so Tessera's launchers turn a SIGTERM they
/// receive into a SIGUSR1 to `mpirun`.
public enum InterruptSignal {
    /// The signal number received, or 0.
    nonisolated(unsafe) private static var received: Int32 = 0

    public static func install() {
        // A launcher may have started us with these signals blocked (the mask is inherited).
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGINT)
        sigaddset(&unblock, SIGTERM)
        sigaddset(&unblock, SIGUSR1)
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        for signalNumber in [SIGINT, SIGTERM, SIGUSR1] {
            signal(signalNumber) { number in
                let effective = number == SIGUSR1 ? SIGTERM : number
                if InterruptSignal.received != 0 { _exit(128 + effective) }
                InterruptSignal.received = effective
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
