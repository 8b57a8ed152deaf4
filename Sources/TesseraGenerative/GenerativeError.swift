/// An input or setting a generative model cannot work with; the message names it and what was expected.
public struct GenerativeError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
