// swift-tools-version:6.1
// Tessera: a distributed deep-learning trainer on a small tensor core with reverse-mode autograd.
import PackageDescription

// MARK: - C libraries (found through pkg-config; each is called from exactly one Swift file)

let systemLibraries: [Target] = [
    .systemLibrary(
        name: "CBLAS", pkgConfig: "openblas",
        providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(
        name: "CMPI", pkgConfig: "ompi-c",
        providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
    .systemLibrary(
        name: "CZstd", pkgConfig: "libzstd",
        providers: [.apt(["libzstd-dev"])]),
]

// MARK: - Libraries, bottom up: tensor → nn → data, config, checkpoint, picture → training

let libraries: [Target] = [
    // AVX-512 elementwise kernels behind a runtime CPU check (function target attributes, no flags).
    .target(name: "CVectorKernels"),
    .target(name: "TesseraTensor", dependencies: ["CBLAS", "CVectorKernels"]),
    .target(name: "TesseraNN", dependencies: ["TesseraTensor"]),
    .target(name: "TesseraData", dependencies: ["TesseraTensor"], resources: [.copy("Resources")]),
    .target(name: "TesseraConfig", dependencies: [.product(name: "Yams", package: "Yams")]),
    .target(name: "TesseraCheckpoint", dependencies: ["CZstd"]),
    .target(name: "TesseraDistributed", dependencies: ["CMPI", "TesseraTensor"]),
    .target(name: "TesseraTransformers", dependencies: ["TesseraTensor", "TesseraNN"]),
    .target(name: "TesseraReinforcement", dependencies: ["TesseraTensor", "TesseraNN"]),
    .target(name: "TesseraGraph", dependencies: ["TesseraTensor", "TesseraNN"], resources: [.copy("Resources")]),
    // PNG writing, charts, heatmaps and image grids from plain arrays: Foundation only, so any module can draw.
    .target(name: "TesseraPicture"),
    // Neural ODEs: solvers with autograd and the adjoint method, ODE blocks, FFJORD.
    .target(name: "TesseraODE", dependencies: ["TesseraTensor", "TesseraNN"]),
    // Layer-wise relevance propagation and gradient attributions; TesseraConfig for "did you mean".
    // Its transformer and GNN rules walk the models of TesseraTransformers and TesseraGraph.
    .target(name: "TesseraExplain", dependencies: ["TesseraTensor", "TesseraNN", "TesseraConfig", "TesseraTransformers", "TesseraGraph"]),
    // Self-supervised and multi-modal learning: contrastive, bootstrap and distillation losses, collapse monitors.
    .target(name: "TesseraSelfSupervised", dependencies: ["TesseraTensor", "TesseraNN", "TesseraData"]),
    // Generative models with likelihoods: flows, VAEs, and the Fréchet-distance yardstick.
    .target(name: "TesseraGenerative", dependencies: ["TesseraTensor", "TesseraNN", "TesseraData"]),
    // Fixture loading and tolerance checks shared by the test targets.
    .target(name: "TesseraTestSupport", dependencies: ["TesseraTensor"]),
    .target(
        name: "TesseraTraining",
        dependencies: [
            "TesseraTensor", "TesseraNN", "TesseraData", "TesseraConfig", "TesseraCheckpoint", "TesseraDistributed",
            "TesseraTransformers", "TesseraReinforcement", "TesseraGraph", "TesseraODE", "TesseraPicture", "TesseraExplain", "TesseraSelfSupervised",
            "TesseraGenerative",
        ]),
    // The live dashboard: one page, server-sent events and a Prometheus endpoint over a run
    // directory's files (Hummingbird on SwiftNIO). It reads runs; training never imports it.
    .target(
        name: "TesseraDashboard",
        dependencies: [
            "TesseraTraining", "TesseraCheckpoint",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Logging", package: "swift-log"),
        ]),
]

// MARK: - Executables

let executables: [Target] = [
    .executableTarget(
        name: "TesseraCLI",
        dependencies: [
            "TesseraTraining", "TesseraCheckpoint", "TesseraConfig", "TesseraDashboard",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
    .executableTarget(
        name: "TesseraCoordinator",
        dependencies: ["TesseraTraining", "TesseraDashboard", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    .executableTarget(name: "TesseraWorker", dependencies: ["TesseraTraining"]),
    .executableTarget(name: "TesseraMPISelfTest", dependencies: ["TesseraDistributed"]),
    .executableTarget(
        name: "TesseraBench",
        dependencies: ["TesseraTensor", "TesseraNN", "TesseraData", "TesseraCheckpoint", "TesseraDistributed", "TesseraTransformers", "TesseraReinforcement", "TesseraGraph", "TesseraODE", "TesseraExplain", "TesseraSelfSupervised", "TesseraGenerative"]),
]

// MARK: - Tests

let tests: [Target] = [
    .testTarget(name: "TesseraTensorTests", dependencies: ["TesseraTensor", "TesseraTestSupport"], resources: [.copy("Fixtures")]),
    .testTarget(name: "TesseraNNTests", dependencies: ["TesseraNN", "TesseraTestSupport"], resources: [.copy("Fixtures")]),
    .testTarget(name: "TesseraDataTests", dependencies: ["TesseraData"]),
    .testTarget(name: "TesseraConfigTests", dependencies: ["TesseraConfig"]),
    .testTarget(name: "TesseraCheckpointTests", dependencies: ["TesseraCheckpoint"]),
    .testTarget(name: "TesseraDistributedTests", dependencies: ["TesseraDistributed", "TesseraNN"]),
    .testTarget(name: "TesseraTransformersTests", dependencies: ["TesseraTransformers", "TesseraTestSupport"], resources: [.copy("Fixtures")]),
    .testTarget(name: "TesseraReinforcementTests", dependencies: ["TesseraReinforcement", "TesseraTestSupport"], resources: [.copy("Fixtures")]),
    .testTarget(name: "TesseraGraphTests", dependencies: ["TesseraGraph", "TesseraTestSupport"], resources: [.copy("Fixtures")]),
    .testTarget(name: "TesseraPictureTests", dependencies: ["TesseraPicture"]),
    .testTarget(name: "TesseraODETests", dependencies: ["TesseraODE", "TesseraTestSupport"], resources: [.copy("Fixtures")]),
    .testTarget(name: "TesseraExplainTests", dependencies: ["TesseraExplain", "TesseraTransformers", "TesseraGraph", "TesseraTestSupport"], resources: [.copy("Fixtures")]),
    .testTarget(name: "TesseraSelfSupervisedTests", dependencies: ["TesseraSelfSupervised", "TesseraTestSupport"], resources: [.copy("Fixtures")]),
    .testTarget(name: "TesseraGenerativeTests", dependencies: ["TesseraGenerative", "TesseraODE", "TesseraTestSupport"], resources: [.copy("Fixtures")]),
    .testTarget(name: "TesseraDashboardTests", dependencies: ["TesseraDashboard", "TesseraTraining", "TesseraTestSupport"]),
    .testTarget(name: "TesseraTrainingTests", dependencies: ["TesseraTraining", "TesseraCheckpoint", "TesseraConfig",
                                                         "TesseraDistributed", "TesseraReinforcement", "TesseraTensor", "TesseraTestSupport"]),
]

let package = Package(
    name: "Tessera",
    platforms: [.macOS(.v15)],
    products: [
        // Libraries for other packages: the tensor core and layers up, each family, and the trainer.
        .library(name: "TesseraTensor", targets: ["TesseraTensor"]),
        .library(name: "TesseraNN", targets: ["TesseraNN"]),
        .library(name: "TesseraData", targets: ["TesseraData"]),
        .library(name: "TesseraConfig", targets: ["TesseraConfig"]),
        .library(name: "TesseraCheckpoint", targets: ["TesseraCheckpoint"]),
        .library(name: "TesseraDistributed", targets: ["TesseraDistributed"]),
        .library(name: "TesseraPicture", targets: ["TesseraPicture"]),
        .library(name: "TesseraTransformers", targets: ["TesseraTransformers"]),
        .library(name: "TesseraReinforcement", targets: ["TesseraReinforcement"]),
        .library(name: "TesseraGraph", targets: ["TesseraGraph"]),
        .library(name: "TesseraODE", targets: ["TesseraODE"]),
        .library(name: "TesseraExplain", targets: ["TesseraExplain"]),
        .library(name: "TesseraSelfSupervised", targets: ["TesseraSelfSupervised"]),
        .library(name: "TesseraGenerative", targets: ["TesseraGenerative"]),
        .library(name: "TesseraTraining", targets: ["TesseraTraining"]),
        .library(name: "TesseraDashboard", targets: ["TesseraDashboard"]),
        .executable(name: "tessera", targets: ["TesseraCLI"]),
        .executable(name: "tessera-coordinator", targets: ["TesseraCoordinator"]),
        .executable(name: "tessera-worker", targets: ["TesseraWorker"]),
        .executable(name: "tessera-bench", targets: ["TesseraBench"]),
        .executable(name: "tessera-mpi-selftest", targets: ["TesseraMPISelfTest"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // The dashboard's HTTP server, without the swift-configuration trait; and its /metrics text.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // `swift package generate-documentation`: the DocC catalogue of the library products.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: systemLibraries + libraries + executables + tests,
    swiftLanguageModes: [.v5]
)
