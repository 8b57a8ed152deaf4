import Testing
@testable import TesseraTensor

/// LAPACK's ssyevd through ``BLAS/symmetricEigendecomposition(_:n:)`` against
/// `numpy.linalg.eigh` (`symmetricEigen.json`, from `Tests/Fixtures/fixtures_spectral.py`).
@Suite struct SymmetricEigendecompositionTests {
    @Test func eigenvaluesAscendAndMatchNumpyAndEigenvectorsMatchUpToSign() throws {
        let fixture = try Fixture("symmetricEigen")
        let (_, matrix) = try fixture.values("matrix")
        let (values, vectors) = try #require(BLAS.symmetricEigendecomposition(matrix, n: 6))
        let expectedValues = try fixture.values("eigenvalues").data, expectedVectors = try fixture.values("eigenvectors").data
        for k in 0..<6 {
            #expect(Swift.abs(values[k] - expectedValues[k]) <= 1e-5 * Swift.max(1, Swift.abs(expectedValues[k])), "eigenvalue \(k)")
            if k > 0 { #expect(values[k] >= values[k - 1], "ascending at \(k)") }
            // Column k, sign fixed by its largest entry in numpy's vector.
            let column = (0..<6).map { vectors[$0 * 6 + k] }, expected = (0..<6).map { expectedVectors[$0 * 6 + k] }
            let pivot = expected.indices.max { Swift.abs(expected[$0]) < Swift.abs(expected[$1]) }!
            let sign: Float = (column[pivot] < 0) == (expected[pivot] < 0) ? 1 : -1
            for row in 0..<6 {
                #expect(Swift.abs(sign * column[row] - expected[row]) <= 1e-4, "eigenvector \(k), row \(row)")
            }
        }
    }

    @Test func eigenvectorsAreOrthonormalAndReconstructTheMatrix() throws {
        let (_, matrix) = try Fixture("symmetricEigen").values("matrix")
        let (values, vectors) = try #require(BLAS.symmetricEigendecomposition(matrix, n: 6))
        let u = Tensor(shape: [6, 6], scalars: vectors)
        let reconstructed = (u * Tensor(values)).matmul(transposed: u)  // U Λ Uᵀ: column k of U scaled by λ_k
        expectClose(reconstructed, Tensor(shape: [6, 6], scalars: matrix), absolute: 1e-5, relative: 1e-5, "U Λ Uᵀ")
        expectClose(Tensor.matmul(u, u, transposeA: true, transposeB: false), Tensor.eye(6), absolute: 1e-5, "Uᵀ U")
    }

    @Test func aDiagonalMatrixHasItsDiagonalSortedAsEigenvalues() throws {
        let (values, _) = try #require(BLAS.symmetricEigendecomposition([3, 0, 0, 0, -1, 0, 0, 0, 2], n: 3))
        #expect(values == [-1, 2, 3])
    }
}
