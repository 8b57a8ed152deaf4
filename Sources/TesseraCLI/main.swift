import TesseraTensor

// Before anything touches OpenBLAS: pick its fast kernels for this CPU (may re-execute the process).
BLASKernelSelection.selectFastKernel()
TesseraCommand.main(DashboardArgument.normalized(Array(CommandLine.arguments.dropFirst())))
