// swift-tools-version:6.0
// A package that uses Tessera as a library, the way another project would: by path here, by URL and
// version elsewhere. `make test` builds it and runs its test, so the public API it uses cannot rot.
import PackageDescription

let package = Package(
    name: "DigitsExample",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "Tessera", path: "../..")],
    targets: [
        .target(name: "DigitsExample", dependencies: [
            .product(name: "TesseraTensor", package: "Tessera"),
            .product(name: "TesseraNN", package: "Tessera"),
            .product(name: "TesseraData", package: "Tessera"),
            .product(name: "TesseraCheckpoint", package: "Tessera"),
        ]),
        .testTarget(name: "DigitsExampleTests", dependencies: ["DigitsExample"]),
    ],
    swiftLanguageModes: [.v5]
)
