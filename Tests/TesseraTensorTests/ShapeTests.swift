import Testing
@testable import TesseraTensor

/// Shape ops against PyTorch (`shape.json`). Ops that only relabel the storage are multiplied by
/// one on the PyTorch side, which changes nothing but the graph.
@Suite struct ShapeTests {
    static let cases: [TorchCase] = [
        TorchCase("reshape.inferred") { $0[0].reshape([4, -1]) },
        TorchCase("flattened") { $0[0].flattened(startAxis: 1) },
        TorchCase("permuted") { $0[0].permuted([2, 0, 1]) },
        TorchCase("permuted.negative") { $0[0].permuted([-1, 1, 0]) },
        TorchCase("transposed") { $0[0].transposed() },
        TorchCase("transposed.outer") { $0[0].transposed(0, 2) },
        TorchCase("expand") { $0[0].expand(to: [2, 3, 4]) },  // [3,1]
        TorchCase("expand.newAxes") { $0[0].expand(to: [2, 3, 4]) },  // [4]
        TorchCase("squeezed.all") { $0[0].squeezed() },
        TorchCase("squeezed.axis") { $0[0].squeezed(axis: -2) },
        TorchCase("unsqueezed") { $0[0].unsqueezed(axis: -1) },
        TorchCase("slice.step") { $0[0].slice(alongAxis: 2, start: 1, step: 2) },
        TorchCase("slice.negativeBounds") { $0[0].slice(alongAxis: 1, start: -3, end: -1) },
        TorchCase("slice.stepNegativeStart") { $0[0].slice(alongAxis: 0, start: -5, step: 3) },
        TorchCase("select") { $0[0].select(alongAxis: 1, index: 2) },
        TorchCase("select.negative") { $0[0].select(alongAxis: -1, index: -1) },
        TorchCase("concatenate") { Tensor.concatenate($0, alongAxis: 1) },
        TorchCase("concatenate.negativeAxis") { Tensor.concatenate($0, alongAxis: -1) },
        TorchCase("stack") { Tensor.stack($0, alongAxis: 1) },
        TorchCase("stack.last") { Tensor.stack($0, alongAxis: -1) },
        TorchCase("split") { flattenedPieces($0[0].split(sizes: [1, 3, 2], alongAxis: 1)) },
        TorchCase("chunked") { flattenedPieces($0[0].chunked(4, alongAxis: -1)) },
        TorchCase("padded") { $0[0].padded([(1, 3), (2, 0)]) },  // last two axes of [2,3,4]
        TorchCase("padded.value") { $0[0].padded([(0, 0), (1, 1)], value: -2) },
        TorchCase("flipped") { $0[0].flipped(alongAxes: [0, 2]) },
        TorchCase("flipped.negative") { $0[0].flipped(alongAxes: [-2]) },
        TorchCase("repeated") { $0[0].repeated([2, 1, 3]) },
        TorchCase("repeated.sameRank") { $0[0].repeated([3, 2]) },
    ]

    /// The pieces of a split, flattened and joined, so one comparison covers all of them.
    static func flattenedPieces(_ pieces: [Tensor]) -> Tensor {
        Tensor.concatenate(pieces.map { $0.reshape([-1]) })
    }

    @Test(arguments: cases)
    func valueAndGradientMatchPyTorch(_ golden: TorchCase) throws {
        try golden.check(Fixture("shape"))
    }

    @Test func chunkedMakesFewerPiecesWhenExtentDividesUnevenly() {
        // PyTorch's chunk: 6 elements in 4 chunks are pieces of ceil(6/4) = 2, so only 3 pieces.
        let pieces = Tensor.arange(0, 6).chunked(4)
        #expect(pieces.map(\.shape) == [[2], [2], [2]])
        #expect(Tensor.arange(0, 7).chunked(3).map(\.shape) == [[3], [3], [1]])
    }

    @Test func splitPiecesHaveRequestedSizes() {
        let pieces = Tensor.zeros([2, 6]).split(sizes: [1, 0, 5], alongAxis: -1)
        #expect(pieces.map(\.shape) == [[2, 1], [2, 0], [2, 5]])
    }

    @Test func factoriesFollowPyTorchConventions() {
        #expect(Tensor.arange(0, 1, step: 0.25).scalars == [0, 0.25, 0.5, 0.75])  // end excluded
        #expect(Tensor.arange(3, 0, step: -1).scalars == [3, 2, 1])
        #expect(Tensor.arange(0, 7, step: 3).scalars == [0, 3, 6])
        #expect(Tensor.linspace(-1, 1, count: 5).scalars == [-1, -0.5, 0, 0.5, 1])  // end included
        #expect(Tensor.linspace(2, 3, count: 1).scalars == [2])
        #expect(Tensor.eye(3).sum(alongAxis: 0).scalars == [1, 1, 1])
        #expect(Tensor.eye(3).scalars[4] == 1 && Tensor.eye(3).scalars[1] == 0)
    }

    @Test func reshapeSharesStorageAndInfersOneExtent() {
        let x = Tensor.arange(0, 12)
        let y = x.reshape([3, -1])
        #expect(y.shape == [3, 4])
        #expect(y.storage === x.storage)
    }

    @Test func sliceBeyondBoundsIsClampedLikePython() {
        let x = Tensor.arange(0, 5)
        #expect(x.slice(alongAxis: 0, start: -10, end: 2).scalars == [0, 1])
        #expect(x.slice(alongAxis: 0, start: 3, end: 100).scalars == [3, 4])
        #expect(x.slice(alongAxis: 0, start: 4, end: 1).shape == [0])
    }

    @Test func permutedGradientMatchesFiniteDifferences() {
        let x = Tensor(shape: [2, 3, 2]) { Float($0) * 0.3 - 1 }
        let weights = Tensor(shape: [2, 2, 3]) { Float($0 % 5) - 2 }
        expectGradientMatchesFiniteDifferences(x) { ($0.permuted([2, 0, 1]).pow(2) * weights).sum() }
    }

    @Test func paddedAndSlicedGradientMatchesFiniteDifferences() {
        let x = Tensor(shape: [3, 4]) { Float($0) * 0.25 - 1 }
        expectGradientMatchesFiniteDifferences(x) { x in
            let padded = x.padded([(1, 0), (0, 2)], value: 1)
            return (padded.slice(alongAxis: 1, start: 1, step: 2) * padded.flipped(alongAxes: [0]).slice(alongAxis: 1, start: 1, step: 2)).sum()
        }
    }
}
