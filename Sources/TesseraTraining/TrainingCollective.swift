import TesseraTensor

/// What data-parallel training needs from the processes training together. The trainer calls it
/// at visible points of the step — `backward → averageGradients → step` — so nothing hides a
/// collective; model code never sees it. `nil` means one process (local mode).
public protocol TrainingCollective: AnyObject {
    /// This process's index; rank 0 evaluates, logs and saves.
    var rank: Int { get }
    /// Number of processes training together.
    var worldSize: Int { get }
    /// Sends rank 0's values of `tensors` (sorted by name) to every rank, in place.
    func broadcast(_ tensors: [(name: String, tensor: Tensor)]) throws
    /// Prepares gradient averaging for these parameters (e.g. installs bucket hooks that start
    /// allreduces while backward still runs). Called once before the first step.
    func prepareGradientAveraging(_ parameters: [(name: String, parameter: Tensor)]) throws
    /// Completes the averaging of this step's gradients; `.grad` holds the mean over ranks after it.
    func averageGradients() throws
    /// The element-wise sum over ranks of `values`, bit-identical on every rank.
    func sum(_ values: [Double]) throws -> [Double]
    /// Rank 0's `value` on every rank.
    func broadcastBytes(_ value: [UInt8]) throws -> [UInt8]
    /// Every rank's `value`, indexed by rank, on every rank (the lengths may differ).
    func allgatherBytes(_ value: [UInt8]) throws -> [[UInt8]]
}
