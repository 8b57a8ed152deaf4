import Foundation
import TesseraTensor

/// A numeric CSV file read into tensors: every cell a number, every row the same width.
public struct CSVTable {
    /// The header row's cells, when the file has one.
    public let header: [String]?
    /// `[rows, columns]` of every column except the label column.
    public let features: Tensor
    /// `[rows]` of the label column, when one was named.
    public let labels: Tensor?

    /// Features and labels as a data set (labels are zeros when the file has no label column).
    public var dataset: TensorDataset {
        TensorDataset(inputs: features, labels: labels ?? .zeros([features.shape[0]]))
    }
}

/// A strict reader of numeric CSV files.
///
/// Cells are split on `delimiter`; surrounding spaces and one pair of double quotes are
/// stripped; a cell must then parse as a `Float` (`3`, `-0.5`, `1e-3`). Blank lines are skipped.
/// Any other cell, or a row whose width differs from the first row's, throws a `DataError`
/// naming the file, the 1-based line and the 1-based column — never a crash.
///
/// ```swift
/// let table = try CSVReader.read(contentsOf: url, hasHeader: true, labelColumn: -1)
/// let data = table.dataset
/// ```
public enum CSVReader {
    /// Reads the file at `url`. `labelColumn` may count from the end (`-1` is the last column).
    public static func read(contentsOf url: URL, hasHeader: Bool = false, labelColumn: Int? = nil,
                            delimiter: Character = ",") throws -> CSVTable {
        try parse(readFileBytes(url), fileName: url.lastPathComponent, hasHeader: hasHeader,
                  labelColumn: labelColumn, delimiter: delimiter)
    }

    /// Parses CSV bytes; `fileName` names them in errors.
    public static func parse(_ bytes: [UInt8], fileName: String, hasHeader: Bool = false, labelColumn: Int? = nil,
                             delimiter: Character = ",") throws -> CSVTable {
        guard let separator = delimiter.asciiValue else {
            throw DataError(.invalidArgument, file: fileName, reason: "the delimiter must be one ASCII character, got \"\(delimiter)\"")
        }
        var header: [String]?
        var values: [Float] = []
        var width: Int?
        var rows = 0
        var lineNumber = 0
        var lineStart = 0
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count && bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            lineNumber += 1
            defer { lineStart = lineEnd + 1 }
            var contentEnd = lineEnd
            if contentEnd > lineStart && bytes[contentEnd - 1] == UInt8(ascii: "\r") { contentEnd -= 1 }
            let cells = splitCells(bytes[lineStart..<contentEnd], separator: separator)
            if cells.count == 1 && cells[0].isEmpty { continue }  // blank line

            if hasHeader && header == nil {
                header = cells.map { String(decoding: $0, as: UTF8.self) }
                width = cells.count
                continue
            }
            guard width == nil || cells.count == width else {
                throw DataError(.raggedRow, file: fileName, line: lineNumber,
                                reason: "expected \(width!) cells like the first row, found \(cells.count)")
            }
            width = cells.count
            for (column, cell) in cells.enumerated() {
                guard let value = Float(String(decoding: cell, as: UTF8.self)) else {
                    let shown = String(decoding: cell, as: UTF8.self)
                    throw DataError(.notNumeric, file: fileName, line: lineNumber, column: column + 1,
                                    reason: shown.isEmpty ? "expected a number, found an empty cell"
                                                          : "expected a number, found \"\(shown)\"")
                }
                values.append(value)
            }
            rows += 1
        }
        let columns = width ?? 0
        guard rows > 0 else {
            throw DataError(.sizeMismatch, file: fileName, reason: "expected at least one data row, found none")
        }
        return try splitLabel(values: values, rows: rows, columns: columns, header: header,
                              labelColumn: labelColumn, fileName: fileName)
    }

    /// Cells of one line with spaces and one pair of surrounding quotes removed.
    private static func splitCells(_ line: ArraySlice<UInt8>, separator: UInt8) -> [ArraySlice<UInt8>] {
        line.split(separator: separator, omittingEmptySubsequences: false).map { cell in
            var trimmed = cell
            while let first = trimmed.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { trimmed = trimmed.dropFirst() }
            while let last = trimmed.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { trimmed = trimmed.dropLast() }
            if trimmed.count >= 2 && trimmed.first == UInt8(ascii: "\"") && trimmed.last == UInt8(ascii: "\"") {
                trimmed = trimmed.dropFirst().dropLast()
            }
            return trimmed
        }
    }

    private static func splitLabel(values: [Float], rows: Int, columns: Int, header: [String]?,
                                   labelColumn: Int?, fileName: String) throws -> CSVTable {
        guard let labelColumn else {
            return CSVTable(header: header, features: Tensor(shape: [rows, columns], scalars: values), labels: nil)
        }
        let column = labelColumn < 0 ? labelColumn + columns : labelColumn
        guard column >= 0 && column < columns else {
            throw DataError(.invalidArgument, file: fileName,
                            reason: "label column \(labelColumn) is out of range for rows of \(columns) cells")
        }
        var features = [Float](), labels = [Float]()
        features.reserveCapacity(rows * (columns - 1))
        labels.reserveCapacity(rows)
        for row in 0..<rows {
            for index in 0..<columns {
                let value = values[row * columns + index]
                if index == column { labels.append(value) } else { features.append(value) }
            }
        }
        return CSVTable(header: header, features: Tensor(shape: [rows, columns - 1], scalars: features),
                        labels: Tensor(labels))
    }
}
