import TesseraTensor

/// The dense Jacobian `∂f/∂u` of a small state, one row per vector–Jacobian product (row `i` is
/// the gradient of `f(u)ᵢ`), and `f(u)` itself. Costs one evaluation and `u.count` backward passes,
/// so it is meant for states of a few dozen elements (implicit Euler's Newton steps, exact traces).
func denseJacobian(_ f: ODEEvaluator, time: Double, state: Tensor) -> (value: Tensor, rows: [Double]) {
    withGradientMode(true) {
        let x = state.detached().requiringGradient()
        let y = f(time, x)
        let n = x.count
        var rows = [Double](repeating: 0, count: n * n)
        guard y.requiresGrad else { return (y.detached(), rows) }  // f does not depend on u
        for i in 0..<n {
            let seed = Tensor.zeros(y.shape)
            seed.storage.pointer[i] = 1
            let row = Tensor.gradients(of: y, withRespectTo: [x], seed: seed)[0].scalars
            for j in 0..<n { rows[i * n + j] = Double(row[j]) }
        }
        return (y.detached(), rows)
    }
}

/// Solves `A x = b` in place by Gaussian elimination with partial pivoting (Golub & Van Loan,
/// *Matrix Computations*, §3.4). `matrix` is row-major `n × n`; on return `rhs` holds `x`.
/// Returns false when a pivot is zero or not finite (a singular or broken system).
func solveLinearSystem(_ matrix: inout [Double], _ rhs: inout [Double], size n: Int) -> Bool {
    for column in 0..<n {
        var pivot = column
        for row in (column + 1)..<max(n, column + 1) where abs(matrix[row * n + column]) > abs(matrix[pivot * n + column]) {
            pivot = row
        }
        let pivotValue = matrix[pivot * n + column]
        guard pivotValue != 0, pivotValue.isFinite else { return false }
        if pivot != column {
            for j in 0..<n { matrix.swapAt(pivot * n + j, column * n + j) }
            rhs.swapAt(pivot, column)
        }
        for row in (column + 1)..<max(n, column + 1) {
            let factor = matrix[row * n + column] / pivotValue
            if factor == 0 { continue }
            for j in column..<n { matrix[row * n + j] -= factor * matrix[column * n + j] }
            rhs[row] -= factor * rhs[column]
        }
    }
    for row in stride(from: n - 1, through: 0, by: -1) {
        var total = rhs[row]
        for j in (row + 1)..<max(n, row + 1) { total -= matrix[row * n + j] * rhs[j] }
        rhs[row] = total / matrix[row * n + row]
    }
    return rhs.allSatisfy(\.isFinite)
}
