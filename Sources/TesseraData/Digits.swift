import Foundation
import TesseraTensor

/// The 8×8 handwritten digits bundled with Tessera: 1,797 grey images, labels 0–9 (174–183 per
/// class), pixels 0–16 scaled to [0, 1].
///
/// Source: UCI ML "Optical Recognition of Handwritten Digits" (optdigits) test set, E. Alpaydin
/// and C. Kaynak, 1998, as shipped in scikit-learn (`load_digits`); CC BY 4.0 — see
/// `Resources/DIGITS-LICENSE.md`. Bundled so that examples and tests train on real data with no
/// download.
///
/// ```swift
/// let split = try Digits.split(layout: .image, seed: 0)   // 80/20, stratified
/// var loader = DataLoader(dataset: split.train, batchSize: 128, seed: 1)
/// ```
public enum Digits {
    /// Number of images in the set.
    public static let exampleCount = 1797
    /// Number of classes.
    public static let classCount = 10
    /// The largest grey level in the source data; pixels are divided by it.
    public static let maximumGreyLevel: Float = 16

    /// How each image is shaped.
    public enum Layout: Sendable {
        /// `[1, 8, 8]`: one channel, for convolutional and patch-based models.
        case image
        /// `[64]`: row-major pixels, for multilayer perceptrons.
        case flat

        var shape: [Int] { self == .image ? [1, 8, 8] : [64] }
    }

    /// All 1,797 digits in file order.
    public static func load(layout: Layout = .image) throws -> TensorDataset {
        let table = try parsedTable.get()
        return TensorDataset(inputs: Tensor(shape: [table.labels.count] + layout.shape, scalars: table.pixels),
                             labels: Tensor(table.labels))
    }

    /// A train/test split fixed by `seed` (stratified by class unless `stratified` is false).
    public static func split(layout: Layout = .image, testFraction: Double = 0.2, seed: UInt64,
                             stratified: Bool = true) throws -> DatasetSplit {
        try load(layout: layout).split(testFraction: testFraction, seed: seed, stratified: stratified)
    }

    /// The CSV parsed once per process (about 117k cells); kept as arrays, not tensors, so
    /// callers that modify their tensors in place cannot change what the next caller loads.
    private static let parsedTable: Result<(pixels: [Float], labels: [Float]), DataError> = {
        guard let url = Bundle.module.url(forResource: "digits", withExtension: "csv", subdirectory: "Resources") else {
            return .failure(DataError(.unreadable, file: "digits.csv", reason: "the bundled resource is missing from TesseraData"))
        }
        do {
            let table = try CSVReader.read(contentsOf: url, labelColumn: 0)
            guard table.features.shape == [exampleCount, 64] else {
                return .failure(DataError(.sizeMismatch, file: "digits.csv",
                                          reason: "expected \(exampleCount) rows of 1 label + 64 pixels, found \(table.features.shape)"))
            }
            return .success((table.features.scalars.map { $0 / maximumGreyLevel }, table.labels!.scalars))
        } catch let error as DataError {
            return .failure(error)
        } catch {
            return .failure(DataError(.unreadable, file: "digits.csv", reason: "\(error)"))
        }
    }()
}
