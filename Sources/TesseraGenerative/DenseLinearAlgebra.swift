/// `P A = L U` of a row-major `n × n` matrix by Gaussian elimination with partial pivoting (Golub &
/// Van Loan, *Matrix Computations*, §3.4): `rowOrder[i]` is the row of `A` that became row `i`,
/// `lower` is unit lower triangular, `upper` upper triangular.
func luDecomposition(_ matrix: [Double], size n: Int) throws -> (rowOrder: [Int], lower: [Double], upper: [Double]) {
    var a = matrix, order = Array(0..<n)
    var lower = [Double](repeating: 0, count: n * n)
    for column in 0..<n {
        var pivot = column
        for row in column..<n where abs(a[row * n + column]) > abs(a[pivot * n + column]) { pivot = row }
        guard a[pivot * n + column] != 0, a[pivot * n + column].isFinite else {
            throw GenerativeError("LU decomposition: the matrix is singular (column \(column) has no non-zero pivot)")
        }
        if pivot != column {
            for j in 0..<n { a.swapAt(pivot * n + j, column * n + j); lower.swapAt(pivot * n + j, column * n + j) }
            order.swapAt(pivot, column)
        }
        for row in (column + 1)..<max(n, column + 1) {
            let factor = a[row * n + column] / a[column * n + column]
            lower[row * n + column] = factor
            for j in column..<n { a[row * n + j] -= factor * a[column * n + j] }
        }
    }
    for i in 0..<n { lower[i * n + i] = 1 }
    var upper = a
    for i in 0..<n { for j in 0..<i { upper[i * n + j] = 0 } }
    return (order, lower, upper)
}

/// The inverse of a row-major `n × n` matrix by Gauss–Jordan elimination with partial pivoting.
func invertSquare(_ matrix: [Double], size n: Int) throws -> [Double] {
    var a = matrix
    var inverse = [Double](repeating: 0, count: n * n)
    for i in 0..<n { inverse[i * n + i] = 1 }
    for column in 0..<n {
        var pivot = column
        for row in column..<n where abs(a[row * n + column]) > abs(a[pivot * n + column]) { pivot = row }
        let pivotValue = a[pivot * n + column]
        guard pivotValue != 0, pivotValue.isFinite else {
            throw GenerativeError("matrix inverse: the matrix is singular (column \(column) has no non-zero pivot)")
        }
        if pivot != column {
            for j in 0..<n { a.swapAt(pivot * n + j, column * n + j); inverse.swapAt(pivot * n + j, column * n + j) }
        }
        for j in 0..<n { a[column * n + j] /= pivotValue; inverse[column * n + j] /= pivotValue }
        for row in 0..<n where row != column {
            let factor = a[row * n + column]
            if factor == 0 { continue }
            for j in 0..<n { a[row * n + j] -= factor * a[column * n + j]; inverse[row * n + j] -= factor * inverse[column * n + j] }
        }
    }
    return inverse
}
