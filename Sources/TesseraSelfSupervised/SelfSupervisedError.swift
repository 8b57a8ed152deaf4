/// A setting or input a self-supervised method cannot work with; the message names it and what was expected.
public struct SelfSupervisedError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
