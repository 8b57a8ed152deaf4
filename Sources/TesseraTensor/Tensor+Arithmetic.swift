import Foundation

// Broadcasting binary arithmetic and comparisons. Gradients of broadcast operands are summed
// back to the operand's shape (`sum(toShape:)`).

extension Tensor {
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        mapBinary(a, b, op: "add", +).recorded("add", inputs: [a, b]) { g in
            [g.sum(toShape: a.shape), g.sum(toShape: b.shape)]
        }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        mapBinary(a, b, op: "sub", -).recorded("sub", inputs: [a, b]) { g in
            [g.sum(toShape: a.shape), (-g).sum(toShape: b.shape)]
        }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        mapBinary(a, b, op: "mul", *).recorded("mul", inputs: [a, b]) { g in
            [a.requiresGrad ? (g * b).sum(toShape: a.shape) : nil,
             b.requiresGrad ? (g * a).sum(toShape: b.shape) : nil]
        }
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        mapBinary(a, b, op: "div", /).recorded("div", inputs: [a, b]) { g in
            [a.requiresGrad ? (g / b).sum(toShape: a.shape) : nil,
             b.requiresGrad ? (-g * a / (b * b)).sum(toShape: b.shape) : nil]
        }
    }

    public static prefix func - (x: Tensor) -> Tensor {
        mapUnary(x) { -$0 }.recorded("neg", inputs: [x]) { g in [-g] }
    }

    // Scalars on either side broadcast as rank-0 tensors.
    public static func + (a: Tensor, b: Float) -> Tensor { a + Tensor(b) }
    public static func + (a: Float, b: Tensor) -> Tensor { Tensor(a) + b }
    public static func - (a: Tensor, b: Float) -> Tensor { a - Tensor(b) }
    public static func - (a: Float, b: Tensor) -> Tensor { Tensor(a) - b }
    public static func * (a: Tensor, b: Float) -> Tensor { a * Tensor(b) }
    public static func * (a: Float, b: Tensor) -> Tensor { Tensor(a) * b }
    public static func / (a: Tensor, b: Float) -> Tensor { a / Tensor(b) }
    public static func / (a: Float, b: Tensor) -> Tensor { Tensor(a) / b }

    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }

    /// `self ** exponent` elementwise with a tensor exponent (broadcasting).
    public func pow(_ exponent: Tensor) -> Tensor {
        let base = self
        let output = mapBinary(base, exponent, op: "pow") { Foundation.pow($0, $1) }
        return output.recorded("pow", inputs: [base, exponent]) { [unowned output] g in
            [base.requiresGrad ? (g * exponent * base.pow(exponent - 1)).sum(toShape: base.shape) : nil,
             exponent.requiresGrad ? (g * output * base.log()).sum(toShape: exponent.shape) : nil]
        }
    }

    /// `self ** exponent` elementwise with a constant exponent.
    public func pow(_ exponent: Float) -> Tensor {
        let base = self
        let output: Tensor
        switch exponent {
        case 2: output = mapUnary(base) { $0 * $0 }
        case 0.5: output = mapUnary(base) { $0.squareRoot() }
        default: output = mapUnary(base) { Foundation.pow($0, exponent) }
        }
        return output.recorded("pow", inputs: [base]) { g in
            [exponent == 2 ? g * base * 2 : g * exponent * base.pow(exponent - 1)]
        }
    }

    /// Elementwise maximum; where the operands tie, each receives half the gradient (as PyTorch).
    public func maximum(_ other: Tensor) -> Tensor {
        let a = self, b = other
        return mapBinary(a, b, op: "maximum") { Swift.max($0, $1) }.recorded("maximum", inputs: [a, b]) { g in
            let share = mapBinary(a, b, op: "maximum") { $0 > $1 ? 1 : ($0 == $1 ? 0.5 : 0) }
            return [(g * share).sum(toShape: a.shape), (g * (1 - share)).sum(toShape: b.shape)]
        }
    }

    /// Elementwise minimum; ties split the gradient.
    public func minimum(_ other: Tensor) -> Tensor {
        let a = self, b = other
        return mapBinary(a, b, op: "minimum") { Swift.min($0, $1) }.recorded("minimum", inputs: [a, b]) { g in
            let share = mapBinary(a, b, op: "minimum") { $0 < $1 ? 1 : ($0 == $1 ? 0.5 : 0) }
            return [(g * share).sum(toShape: a.shape), (g * (1 - share)).sum(toShape: b.shape)]
        }
    }

    public func maximum(_ value: Float) -> Tensor { maximum(Tensor(value)) }
    public func minimum(_ value: Float) -> Tensor { minimum(Tensor(value)) }

    // MARK: - Comparisons (masks of 1 and 0; not differentiable)

    public func greater(_ other: Tensor) -> Tensor { mapBinary(self, other, op: "greater") { $0 > $1 ? 1 : 0 } }
    public func greaterEqual(_ other: Tensor) -> Tensor { mapBinary(self, other, op: "greaterEqual") { $0 >= $1 ? 1 : 0 } }
    public func less(_ other: Tensor) -> Tensor { mapBinary(self, other, op: "less") { $0 < $1 ? 1 : 0 } }
    public func lessEqual(_ other: Tensor) -> Tensor { mapBinary(self, other, op: "lessEqual") { $0 <= $1 ? 1 : 0 } }
    public func equal(_ other: Tensor) -> Tensor { mapBinary(self, other, op: "equal") { $0 == $1 ? 1 : 0 } }
    public func notEqual(_ other: Tensor) -> Tensor { mapBinary(self, other, op: "notEqual") { $0 != $1 ? 1 : 0 } }

    public func greater(_ value: Float) -> Tensor { mapUnary(self) { $0 > value ? 1 : 0 } }
    public func greaterEqual(_ value: Float) -> Tensor { mapUnary(self) { $0 >= value ? 1 : 0 } }
    public func less(_ value: Float) -> Tensor { mapUnary(self) { $0 < value ? 1 : 0 } }
    public func lessEqual(_ value: Float) -> Tensor { mapUnary(self) { $0 <= value ? 1 : 0 } }
    public func equal(_ value: Float) -> Tensor { mapUnary(self) { $0 == value ? 1 : 0 } }

    /// Elements of `a` where `condition` is non-zero, else of `b` (all three broadcast).
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        mapTernary(condition, a, b, op: "where") { $0 != 0 ? $1 : $2 }.recorded("where", inputs: [a, b]) { g in
            [a.requiresGrad ? Tensor.where(condition, g, Tensor(0)).sum(toShape: a.shape) : nil,
             b.requiresGrad ? Tensor.where(condition, Tensor(0), g).sum(toShape: b.shape) : nil]
        }
    }

    /// `value` where `mask` is non-zero, else `self`.
    public func maskedFill(_ mask: Tensor, _ value: Float) -> Tensor {
        Tensor.where(mask, Tensor(value), self)
    }
}
