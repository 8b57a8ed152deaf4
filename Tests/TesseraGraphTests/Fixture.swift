import Foundation
@_exported import TesseraTestSupport

extension Fixture {
    init(_ name: String) throws {
        try self.init(name, bundle: .module, generator: "Tests/Fixtures/generate.py")
    }
}
