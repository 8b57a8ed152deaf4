import Testing
@testable import TesseraTensor

/// Index-driven ops against PyTorch (`indexing.json`). Index tensors repeat indices, so gradients
/// flowing back through them must accumulate rather than overwrite.
@Suite struct IndexingTests {
    static let cases: [TorchCase] = [
        TorchCase("gather.axis1") { $0[0].gather(alongAxis: 1, indices: $0[1]) },
        TorchCase("gather.axis0Smaller") { $0[0].gather(alongAxis: 0, indices: $0[1]) },
        TorchCase("gather.negativeAxis") { $0[0].gather(alongAxis: -1, indices: $0[1]) },
        TorchCase("scatterAdd.axis1") { $0[0].scatterAdd(alongAxis: 1, indices: $0[1], source: $0[2]) },
        TorchCase("scatterAdd.axis0") { $0[0].scatterAdd(alongAxis: 0, indices: $0[1], source: $0[2]) },
        TorchCase("indexSelect.axis0") { $0[0].indexSelect(alongAxis: 0, indices: $0[1]) },
        TorchCase("indexSelect.axis1") { $0[0].indexSelect(alongAxis: 1, indices: $0[1]) },
        TorchCase("indexAdd.axis0") { $0[0].indexAdd(alongAxis: 0, indices: $0[1], source: $0[2]) },
        TorchCase("indexAdd.negativeAxis") { $0[0].indexAdd(alongAxis: -1, indices: $0[1], source: $0[2]) },
        TorchCase("oneHot") { $0[0].oneHot(classes: 5) },
        TorchCase("upperTriangle") { $0[0].upperTriangle() },
        TorchCase("upperTriangle.diagonal1") { $0[0].upperTriangle(diagonal: 1) },
        TorchCase("lowerTriangle") { $0[0].lowerTriangle() },
        TorchCase("lowerTriangle.diagonalMinus1") { $0[0].lowerTriangle(diagonal: -1) },
    ]

    @Test(arguments: cases)
    func valueAndGradientMatchPyTorch(_ golden: TorchCase) throws {
        try golden.check(Fixture("indexing"))
    }

    @Test func lowerTriangularMaskIsCausal() {
        let mask = Tensor.lowerTriangularMask(rows: 3, columns: 4)
        #expect(mask.scalars == [1, 0, 0, 0,
                                 1, 1, 0, 0,
                                 1, 1, 1, 0])
        #expect(Tensor.lowerTriangularMask(rows: 2, columns: 2, diagonal: -1).scalars == [0, 0, 1, 0])
    }

    @Test func gatherThenScatterAddGradientMatchesFiniteDifferences() {
        let x = Tensor(shape: [2, 3]) { Float($0) * 0.4 - 1 }
        let indices = Tensor([[2, 2, 0, 1], [1, 0, 0, 0]])
        expectGradientMatchesFiniteDifferences(x) { x in
            let picked = x.gather(alongAxis: 1, indices: indices)
            return Tensor.zeros([2, 3]).scatterAdd(alongAxis: 1, indices: indices, source: picked * picked).sum()
        }
    }
}
