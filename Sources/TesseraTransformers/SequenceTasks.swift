import TesseraTensor

/// Synthetic sequence tasks whose answers are exact, for checking that a sequence model learns
/// (copy, reverse, sort) and that a language model can do arithmetic (multi-digit addition).
///
/// Every task shares one small vocabulary (``SequenceVocabulary``): the digits 0–9 as tokens 0–9,
/// then padding, start, end, `+` and `=`. Examples are drawn from a `RandomGenerator`, so a
/// training run's batch at step `s` is a pure function of the seed and `s` (exact resume).
public enum SequenceVocabulary {
    public static let padding = 10
    public static let start = 11
    public static let end = 12
    public static let plus = 13
    public static let equals = 14
    public static let size = 15

    /// `"0"`…`"9"`, then `_`, `<`, `>`, `+`, `=` (for printing examples).
    public static func text(_ tokens: [Int]) -> String {
        let symbols = Array("0123456789_<>+=")
        return String(tokens.map { $0 >= 0 && $0 < symbols.count ? symbols[$0] : "?" })
    }
}

/// A source → target task for an encoder–decoder.
public enum SequenceTask: String, Codable, CaseIterable, Sendable {
    /// The target is the source.
    case copy
    /// The target is the source backwards.
    case reverse
    /// The target is the source's digits in ascending order.
    case sort

    /// The answer for one source sequence.
    public func target(for source: [Int]) -> [Int] {
        switch self {
        case .copy: return source
        case .reverse: return source.reversed()
        case .sort: return source.sorted()
        }
    }

    /// A batch of `count` random examples with lengths in `lengths`, padded:
    /// - `source`: `[count, maxLength]` digits then padding;
    /// - `decoderInput`: `[count, maxLength + 1]`: start, then the target, then padding;
    /// - `decoderTarget`: `[count, maxLength + 1]`: the target, end, then padding.
    public func batch(count: Int, lengths: ClosedRange<Int>, generator: inout RandomGenerator)
        -> (source: Tensor, decoderInput: Tensor, decoderTarget: Tensor) {
        check(lengths.lowerBound >= 1, "SequenceTask: lengths must start at 1 or more, got \(lengths)")
        let width = lengths.upperBound
        var sources: [Float] = [], inputs: [Float] = [], targets: [Float] = []
        let pad = Float(SequenceVocabulary.padding)
        for _ in 0..<count {
            let length = lengths.lowerBound + generator.nextInt(below: lengths.count)
            let source = (0..<length).map { _ in generator.nextInt(below: 10) }
            let target = self.target(for: source).map(Float.init)
            sources += source.map(Float.init) + Array(repeating: pad, count: width - length)
            inputs += [Float(SequenceVocabulary.start)] + target + Array(repeating: pad, count: width - length)
            targets += target + [Float(SequenceVocabulary.end)] + Array(repeating: pad, count: width - length)
        }
        return (Tensor(shape: [count, width], scalars: sources),
                Tensor(shape: [count, width + 1], scalars: inputs),
                Tensor(shape: [count, width + 1], scalars: targets))
    }
}

/// `a+b=c` with `a` and `b` of `digits` digits (zero-padded), for a causal language model: the
/// sum is written reversed (least significant digit first) and padded to `digits + 1` digits, so
/// each answer digit depends only on digits the model has already seen and every example has the
/// same length — the format nanoGPT-style addition experiments use.
public struct AdditionTask: Sendable {
    public let digits: Int

    public init(digits: Int) {
        check(digits >= 1 && digits <= 9, "AdditionTask: digits must be in 1...9, got \(digits)")
        self.digits = digits
    }

    /// Tokens per example: `a + b = c` then end.
    public var sequenceLength: Int { 2 * digits + 2 + (digits + 1) + 1 }
    /// Tokens before the answer (the prompt).
    public var promptLength: Int { 2 * digits + 2 }

    /// The tokens of `a+b=` followed by the reversed sum and the end token.
    public func tokens(_ a: Int, _ b: Int) -> [Int] {
        func digitsOf(_ value: Int, _ count: Int) -> [Int] {
            (0..<count).reversed().map { position in value / Int(pow10(position)) % 10 }
        }
        let sum = Array(digitsOf(a + b, digits + 1).reversed())
        return digitsOf(a, digits) + [SequenceVocabulary.plus] + digitsOf(b, digits) + [SequenceVocabulary.equals]
            + sum + [SequenceVocabulary.end]
    }

    /// Reads the sum back from generated answer tokens (reversed digits); `nil` if one is not a digit.
    public func sum(fromAnswer answer: [Int]) -> Int? {
        guard answer.count >= digits + 1, answer.prefix(digits + 1).allSatisfy({ (0...9).contains($0) }) else { return nil }
        return answer.prefix(digits + 1).enumerated().reduce(0) { $0 + $1.element * Int(pow10($1.offset)) }
    }

    /// `count` random sums as `[count, sequenceLength]` tokens, with the operands.
    public func batch(count: Int, generator: inout RandomGenerator) -> (tokens: Tensor, operands: [(Int, Int)]) {
        let limit = Int(pow10(digits))
        var scalars: [Float] = [], operands: [(Int, Int)] = []
        for _ in 0..<count {
            let a = generator.nextInt(below: limit), b = generator.nextInt(below: limit)
            operands.append((a, b))
            scalars += tokens(a, b).map(Float.init)
        }
        return (Tensor(shape: [count, sequenceLength], scalars: scalars), operands)
    }

    private func pow10(_ exponent: Int) -> Double {
        (0..<exponent).reduce(1.0) { value, _ in value * 10 }
    }
}
