import Foundation
import TesseraTensor
import TesseraTraining

// `tessera-worker`: a worker rank of a data-parallel run; it receives the recipe from the
// coordinator (see `DistributedRun`), so it takes no arguments.
BLASKernelSelection.selectFastKernel()
if CommandLine.arguments.count > 1 {
    FileHandle.standardError.write(Data("tessera-worker takes no arguments: the coordinator sends the recipe\n".utf8))
    exit(2)
}
exit(DistributedRun.worker())
