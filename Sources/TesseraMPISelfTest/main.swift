// tessera-mpi-selftest: checks and measures TesseraDistributed under a real MPI job.
//
//     OPENBLAS_NUM_THREADS=1 mpirun --allow-run-as-root --oversubscribe -np 3 .build/debug/tessera-mpi-selftest
//
// Pass --no-measure to skip the timings. Exits 1 (so mpirun fails) on the first mismatch.
import Foundation
import TesseraDistributed

do {
    try runMPISelfTest(measure: !CommandLine.arguments.contains("--no-measure"))
} catch {
    FileHandle.standardError.write(Data("tessera-mpi-selftest: \(error)\n".utf8))
    exit(1)
}
