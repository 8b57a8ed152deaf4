import Testing
@testable import TesseraTensor

/// Matrix products against PyTorch (`linearAlgebra.json`): NumPy's rules for 1-D operands, batched
/// and broadcast batch axes, and every combination of the BLAS transpose flags.
@Suite struct LinearAlgebraTests {
    static let cases: [TorchCase] = [
        TorchCase("matmul.vectorVector") { $0[0].matmul($0[1]) },
        TorchCase("matmul.vectorMatrix") { $0[0].matmul($0[1]) },
        TorchCase("matmul.matrixVector") { $0[0].matmul($0[1]) },
        TorchCase("matmul.matrixMatrix") { $0[0].matmul($0[1]) },
        TorchCase("matmul.batched") { $0[0].matmul($0[1]) },
        TorchCase("matmul.broadcastBatch") { $0[0].matmul($0[1]) },  // [2,1,3,4] · [5,4,2]
        TorchCase("matmul.batchedMatrix") { $0[0].matmul($0[1]) },  // batch folded into rows
        TorchCase("matmul.matrixBatched") { $0[0].matmul($0[1]) },
        TorchCase("matmul.vectorBatched") { $0[0].matmul($0[1]) },
        TorchCase("matmul.batchedVector") { $0[0].matmul($0[1]) },
        TorchCase("matmul.transposeNN") { Tensor.matmul($0[0], $0[1], transposeA: false, transposeB: false) },
        TorchCase("matmul.transposeNT") { Tensor.matmul($0[0], $0[1], transposeA: false, transposeB: true) },
        TorchCase("matmul.transposeTN") { Tensor.matmul($0[0], $0[1], transposeA: true, transposeB: false) },
        TorchCase("matmul.transposeTT") { Tensor.matmul($0[0], $0[1], transposeA: true, transposeB: true) },
        TorchCase("matmul.transposedWeight") { $0[0].matmul(transposed: $0[1]) },
        TorchCase("outer") { $0[0].outer($0[1]) },
        TorchCase("dot") { $0[0].dot($0[1]) },
    ]

    @Test(arguments: cases)
    func valueAndGradientMatchPyTorch(_ golden: TorchCase) throws {
        try golden.check(Fixture("linearAlgebra"))
    }

    @Test func matmulWithEmptyInnerExtentIsZero() {
        let product = Tensor.zeros([2, 0]).matmul(Tensor.zeros([0, 3]))
        #expect(product.shape == [2, 3])
        #expect(product.scalars == [Float](repeating: 0, count: 6))
    }

    @Test func identityLeavesMatrixUnchanged() {
        let x = Tensor([[1, 2, 3], [4, 5, 6]])
        #expect(Tensor.eye(2).matmul(x).scalars == x.scalars)
        #expect(x.matmul(Tensor.eye(3)).scalars == x.scalars)
    }

    @Test func broadcastBatchGradientMatchesFiniteDifferences() {
        let a = Tensor(shape: [2, 1, 2, 3]) { Float($0 % 7) * 0.3 - 0.8 }
        let b = Tensor(shape: [3, 3, 2]) { Float($0 % 5) * 0.2 - 0.4 }
        expectGradientMatchesFiniteDifferences(b, "b") { b in a.matmul(b).tanh().sum() }
        expectGradientMatchesFiniteDifferences(a, "a") { a in Tensor.matmul(a, b.transposed(), transposeA: false, transposeB: true).tanh().sum() }
    }
}
