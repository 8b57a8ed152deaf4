import Foundation
@_exported import TesseraTestSupport

extension Fixture {
    /// A fixture file of this test target (`Tests/TesseraGenerativeTests/Fixtures/NAME.json`).
    init(_ name: String) throws {
        try self.init(name, bundle: .module, generator: "Tests/Fixtures/generate.py fixtures_generative")
    }
}
