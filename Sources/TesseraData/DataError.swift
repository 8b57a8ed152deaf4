import Foundation

/// A problem with a user's data file or a data-pipeline setting, described so that the person
/// reading it can find the bad byte, line or cell without a debugger.
///
/// Readers throw this instead of stopping the process: a malformed file is a fact about the
/// outside world, not a programming error.
///
/// ```swift
/// do { _ = try CSVReader.read(contentsOf: url, labelColumn: 0) }
/// catch let error as DataError { print(error) }  // "train.csv line 12, column 5: expected a number, found "abc""
/// ```
public struct DataError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// What went wrong, for code that wants to react to one kind of problem.
    public enum Kind: String, Equatable, Sendable {
        /// The file could not be opened or read.
        case unreadable
        /// The file ends before the data its header promises (or holds bytes after it).
        case sizeMismatch
        /// The first bytes are not the format's signature.
        case badMagic
        /// A header field is malformed or unsupported (dtype, rank, fortran order, …).
        case badHeader
        /// The element type is not one this reader accepts.
        case unsupportedType
        /// A CSV row has a different number of cells than the first row.
        case raggedRow
        /// A CSV cell is not a number.
        case notNumeric
        /// A setting passed in code does not fit the data (label column out of range, bad position).
        case invalidArgument
    }

    public let kind: Kind
    /// The file name (last path component), or a caller-given name for in-memory bytes.
    public let file: String
    /// 1-based line of a text file, when the problem is on one line.
    public let line: Int?
    /// 1-based column (CSV cell) on that line.
    public let column: Int?
    /// What was expected and what was found.
    public let reason: String

    public init(_ kind: Kind, file: String, line: Int? = nil, column: Int? = nil, reason: String) {
        self.kind = kind
        self.file = file
        self.line = line
        self.column = column
        self.reason = reason
    }

    public var description: String {
        var place = file
        if let line { place += " line \(line)" }
        if let column { place += ", column \(column)" }
        return "\(place): \(reason)"
    }

    public var errorDescription: String? { description }
}

/// Reads a whole file, turning Foundation's error into a `DataError` that names the file.
func readFileBytes(_ url: URL) throws -> [UInt8] {
    do {
        return [UInt8](try Data(contentsOf: url))
    } catch {
        throw DataError(.unreadable, file: url.lastPathComponent,
                        reason: "cannot read \(url.path): \(error.localizedDescription)")
    }
}
