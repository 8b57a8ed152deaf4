import Foundation

/// Where an axis puts its ticks: at multiples of 1, 2 or 5 times a power of ten on a linear axis
/// (Heckbert's "nice numbers", as matplotlib and gnuplot choose them), at powers of ten on a
/// logarithmic one.
enum AxisTicks {
    /// The 1-2-5 step that divides `span` into the number of intervals closest to `count` by
    /// ratio (steps 0…138 take 20, seven ticks, rather than 50 and three; 0…1 takes 0.2), so an
    /// axis has 3 to 9 ticks.
    static func step(span: Double, count: Int = 5) -> Double {
        guard span > 0, span.isFinite else { return 1 }
        let magnitude = pow(10, floor(log10(span / Double(max(count, 1)))))
        let candidates = [1.0, 2, 5, 10].map { $0 * magnitude }
        return candidates.min { abs(log(span / $0 / Double(count))) < abs(log(span / $1 / Double(count))) }!
    }

    /// The multiples of ``step(span:count:)`` inside `range` (computed as `k · step`, so zero is
    /// exactly zero and no rounding error builds up).
    static func linear(_ range: ClosedRange<Double>, count: Int = 5) -> [Double] {
        let step = step(span: range.upperBound - range.lowerBound, count: count)
        let slack = step * 1e-9
        let first = (range.lowerBound / step - 1e-9).rounded(.up), last = (range.upperBound / step + 1e-9).rounded(.down)
        guard first.isFinite, last.isFinite, last >= first, last - first < 1000 else { return [] }
        return stride(from: first, through: last, by: 1).map { $0 * step }.filter { $0 >= range.lowerBound - slack && $0 <= range.upperBound + slack }
    }

    /// Powers of ten inside `range` (both bounds positive); with fewer than three of them, also
    /// 2 and 5 times each power, so that a short log axis still has labels.
    static func logarithmic(_ range: ClosedRange<Double>) -> [Double] {
        guard range.lowerBound > 0, range.upperBound.isFinite else { return [] }
        let lowest = Int(floor(log10(range.lowerBound))), highest = Int(ceil(log10(range.upperBound)))
        guard highest - lowest < 400 else { return [] }
        let inside = { (value: Double) in value >= range.lowerBound * (1 - 1e-9) && value <= range.upperBound * (1 + 1e-9) }
        let decades = (lowest...highest).map { pow(10, Double($0)) }.filter(inside)
        if decades.count >= 3 { return decades }
        return (lowest...highest).flatMap { power in [1.0, 2, 5].map { $0 * pow(10, Double(power)) } }.filter(inside)
    }

    /// A linear tick's label with as many decimals as the step needs (step 0.25 → `0.25, 0.50`,
    /// step 0.2 → `0.2, 0.4`, not `0.200`); exponent notation when the step is below a thousandth
    /// or the value reaches a million (`2.4e-4`, `3e6`), with the digits the step needs.
    static func label(_ value: Double, step: Double) -> String {
        if abs(value) < step * 1e-6 { return "0" }
        if step < 1e-3 || abs(value) >= 1e6 {
            let digits = max(0, Int(floor(log10(abs(value)) + 1e-9)) - Int(floor(log10(step) + 1e-9)))
            return shortExponent(String(format: "%.\(digits)e", value))
        }
        let decimals = max(0, Int(-floor(log10(step) + 1e-9)))
        return String(format: "%.\(decimals)f", value)
    }

    /// `2.4e-04` → `2.4e-4`, `3e+06` → `3e6`.
    private static func shortExponent(_ text: String) -> String {
        guard let e = text.firstIndex(of: "e"), let exponent = Int(text[text.index(after: e)...]) else { return text }
        return "\(text[..<e])e\(exponent)"
    }

    /// A log tick's label: `1e-3`, `0.01`, `0.5`, `20`, `1e4`.
    static func logLabel(_ value: Double) -> String {
        if value >= 1e4 || value < 1e-2 { return shortExponent(String(format: "%.0e", value)) }
        return value >= 1 ? String(format: "%.0f", value) : String(format: "%g", value)
    }
}
