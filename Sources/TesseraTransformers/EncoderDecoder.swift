import Foundation
import TesseraNN
import TesseraTensor

/// The encoder–decoder Transformer of Vaswani et al. ("Attention Is All You Need", NeurIPS 2017)
/// for sequence-to-sequence tasks: source tokens → encoder; target prefix → causal decoder with
/// cross-attention to the encoder → next-token logits. Decoding is autoregressive, greedy or by
/// beam search (§6.1 of the paper uses beams of 4).
public struct EncoderDecoderConfiguration: Codable, Equatable, Sendable {
    /// Tokens of sources and targets (one shared table, as the paper's shared BPE vocabulary).
    public var vocabularySize: Int
    /// Longest source or target sequence.
    public var contextLength: Int
    public var encoderLayerCount: Int
    public var decoderLayerCount: Int
    public var headCount: Int
    public var modelDimensions: Int
    /// Hidden width of the feed-forward networks (4 × model dimensions by default).
    public var feedForwardDimensions: Int
    public var dropout: Float
    /// Pre-LN trains these small models without warm-up; post-LN is the paper's.
    public var normalization: NormalizationPlacement
    /// The padding token: masked out of attention and of the loss.
    public var paddingToken: Int

    public init(vocabularySize: Int, contextLength: Int, encoderLayerCount: Int, decoderLayerCount: Int, headCount: Int,
                modelDimensions: Int, feedForwardDimensions: Int? = nil, dropout: Float = 0,
                normalization: NormalizationPlacement = .preNorm, paddingToken: Int) {
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.encoderLayerCount = encoderLayerCount
        self.decoderLayerCount = decoderLayerCount
        self.headCount = headCount
        self.modelDimensions = modelDimensions
        self.feedForwardDimensions = feedForwardDimensions ?? 4 * modelDimensions
        self.dropout = dropout
        self.normalization = normalization
        self.paddingToken = paddingToken
    }

    var block: BlockConfiguration {
        BlockConfiguration(modelDimensions: modelDimensions, headCount: headCount, feedForwardDimensions: feedForwardDimensions,
                           dropout: dropout, activation: .relu, normalization: normalization)
    }
}

public final class EncoderDecoder: Module {
    public let configuration: EncoderDecoderConfiguration
    public let tokenEmbedding: TokenEmbedding
    /// Fixed sinusoids (the paper's choice; nothing to learn, any length up to the context).
    public let positionEmbedding: SinusoidalPositionalEmbedding
    public let embeddingDropout: Dropout?
    public let encoder: TransformerEncoder
    public let decoder: TransformerDecoder
    public let head: Linear

    public init(_ configuration: EncoderDecoderConfiguration, generator: inout RandomGenerator) {
        let c = configuration
        self.configuration = c
        // Embeddings are scaled by √d (§3.4), so they start at unit variance like the sinusoids.
        tokenEmbedding = TokenEmbedding(vocabularySize: c.vocabularySize, dimensions: c.modelDimensions,
                                        standardDeviation: 1 / Float(c.modelDimensions).squareRoot(), generator: &generator)
        positionEmbedding = SinusoidalPositionalEmbedding(maximumLength: c.contextLength, dimensions: c.modelDimensions)
        embeddingDropout = c.dropout > 0 ? Dropout(probability: c.dropout) : nil
        encoder = TransformerEncoder(c.block, layerCount: c.encoderLayerCount, generator: &generator)
        decoder = TransformerDecoder(c.block, layerCount: c.decoderLayerCount, generator: &generator)
        head = Linear(c.modelDimensions, c.vocabularySize, generator: &generator)
    }

    private func embed(_ tokens: Tensor, offset: Int = 0) -> Tensor {
        check(tokens.rank == 2, "EncoderDecoder: tokens must be [batch, time], got \(tokens.shape)")
        check(offset + tokens.shape[1] <= configuration.contextLength,
              "EncoderDecoder: a sequence of \(offset + tokens.shape[1]) tokens exceeds the context of \(configuration.contextLength) tokens")
        let scale = Float(configuration.modelDimensions).squareRoot()
        let x = tokenEmbedding(tokens) * scale + positionEmbedding(length: tokens.shape[1], offset: offset)
        return embeddingDropout.map { $0(x) } ?? x
    }

    /// The encoder's output `[batch, sourceTime, d]` and the source's padding mask.
    public func encode(_ source: Tensor) -> (memory: Tensor, mask: Tensor) {
        let isToken = AttentionMask.tokens(source, paddingToken: configuration.paddingToken)
        let mask = AttentionMask.keyPadding(isToken)
        return (encoder(embed(source), mask: mask), mask)
    }

    /// Next-token logits `[batch, targetTime, vocabulary]` for each position of `decoderInput`.
    public func decode(_ decoderInput: Tensor, memory: Tensor, memoryMask: Tensor, caches: [AttentionCache]? = nil) -> Tensor {
        let offset = caches?.first?.length ?? 0
        let targetMask = caches == nil
            ? AttentionMask.keyPadding(AttentionMask.tokens(decoderInput, paddingToken: configuration.paddingToken)) : nil
        return head(decoder(embed(decoderInput, offset: offset), memory: memory, targetMask: targetMask,
                            memoryMask: memoryMask, caches: caches))
    }

    /// Logits for teacher forcing: `decoderInput` is the target shifted right (start token first).
    public func callAsFunction(source: Tensor, decoderInput: Tensor) -> Tensor {
        let (memory, mask) = encode(source)
        return decode(decoderInput, memory: memory, memoryMask: mask)
    }

    /// Mean cross entropy of the target tokens, padding excluded.
    public func loss(source: Tensor, decoderInput: Tensor, decoderTarget: Tensor) -> Tensor {
        crossEntropy(logits: self(source: source, decoderInput: decoderInput), targets: decoderTarget,
                     ignoreIndex: Float(configuration.paddingToken))
    }

    /// Greedy decoding of every source in the batch: `[batch, maxLength]` tokens after the start
    /// token. A sequence that has produced `endToken` is padded after it.
    public func greedyDecode(_ source: Tensor, startToken: Int, endToken: Int, maxLength: Int) -> Tensor {
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        return withoutGradients {
            let batch = source.shape[0]
            let (memory, mask) = encode(source)
            let caches = decoder.layers.map { _ in AttentionCache() }
            var pending = Tensor.full([batch, 1], Float(startToken))
            var output = [[Float]](repeating: [], count: batch)
            var finished = [Bool](repeating: false, count: batch)
            for _ in 0..<maxLength {
                let logits = decode(pending, memory: memory, memoryMask: mask, caches: caches)
                let next = logits.select(alongAxis: 1, index: 0).argmax(alongAxis: -1).scalars
                for row in 0..<batch {
                    output[row].append(finished[row] ? Float(configuration.paddingToken) : next[row])
                    if Int(next[row]) == endToken { finished[row] = true }
                }
                if finished.allSatisfy({ $0 }) { break }
                pending = Tensor(shape: [batch, 1], scalars: next)
            }
            let width = output[0].count
            return Tensor(shape: [batch, width], scalars: output.flatMap { $0 })
        }
    }

    /// Beam search for one source (`[1, sourceTime]` or `[sourceTime]`): keeps the `beamWidth` most
    /// probable prefixes, finishing a hypothesis at `endToken`, and returns the best by total
    /// log-probability divided by `length^lengthPenalty` (Wu et al., GNMT, 2016; 0 = no
    /// normalisation). The tokens exclude the start token and include the end token.
    public func beamSearch(_ source: Tensor, beamWidth: Int, startToken: Int, endToken: Int, maxLength: Int,
                           lengthPenalty: Float = 0) -> (tokens: [Int], logProbability: Float) {
        check(beamWidth >= 1, "EncoderDecoder.beamSearch: beamWidth must be at least 1, got \(beamWidth)")
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        return withoutGradients {
            let single = source.rank == 1 ? source.reshape([1, source.shape[0]]) : source
            check(single.shape[0] == 1, "EncoderDecoder.beamSearch: one source at a time, got \(source.shape)")
            let (memory, mask) = encode(single)
            var beams: [(tokens: [Int], score: Float)] = [([startToken], 0)]
            var finished: [(tokens: [Int], score: Float)] = []
            func normalized(_ hypothesis: (tokens: [Int], score: Float)) -> Float {
                lengthPenalty == 0 ? hypothesis.score : hypothesis.score / powf(Float(hypothesis.tokens.count - 1), lengthPenalty)
            }
            for _ in 0..<maxLength where !beams.isEmpty {
                // Every live beam is rerun in one batch (no cache: the beams reorder each step).
                let inputs = Tensor(shape: [beams.count, beams[0].tokens.count], scalars: beams.flatMap { $0.tokens.map(Float.init) })
                let repeatedMemory = memory.expand(to: [beams.count] + Array(memory.shape.dropFirst()))
                let logits = decode(inputs, memory: repeatedMemory, memoryMask: mask)
                let last = logits.select(alongAxis: 1, index: inputs.shape[1] - 1).logSoftmax(alongAxis: -1)
                let vocabulary = last.shape[1]
                var candidates: [(tokens: [Int], score: Float)] = []
                for (index, beam) in beams.enumerated() {
                    let row = Array(last.scalars[(index * vocabulary)..<((index + 1) * vocabulary)])
                    let best = row.indices.sorted { row[$0] > row[$1] }.prefix(beamWidth)
                    for token in best { candidates.append((beam.tokens + [token], beam.score + row[token])) }
                }
                candidates.sort { $0.score > $1.score }
                beams = []
                for candidate in candidates {
                    if candidate.tokens.last == endToken {
                        finished.append(candidate)
                    } else if beams.count < beamWidth {
                        beams.append(candidate)
                    }
                    if beams.count == beamWidth { break }
                }
                // Stop once no live beam can beat the best finished one (scores only fall).
                if let bestFinished = finished.map(normalized).max(), let bestLive = beams.map(\.score).max(),
                   lengthPenalty == 0, bestLive < bestFinished { break }
            }
            let pool = finished.isEmpty ? beams : finished
            let best = pool.max { normalized($0) < normalized($1) }!
            return (Array(best.tokens.dropFirst()), best.score)
        }
    }
}
