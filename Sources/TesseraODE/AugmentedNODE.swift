import TesseraNN
import TesseraTensor

/// An augmented neural ODE classifier or regressor (Dupont, Doucet & Teh, "Augmented Neural
/// ODEs", NeurIPS 2019, §4–5): an ``ODEBlock`` on the zero-padded input, then a linear layer from
/// the final state (input and augmented dimensions) to the outputs — logits for a classifier,
/// values for a regressor. The paper's models use exactly this head.
///
/// ```swift
/// var config = AugmentedNODEConfig(inputFeatures: 2, outputs: 2)
/// config.block.augmentedDimensions = 5
/// let model = AugmentedNODE(config: config, generator: &rng)
/// let loss = crossEntropy(logits: model(points), targets: labels)
/// ```
public struct AugmentedNODEConfig: Equatable, Sendable {
    /// The ODE block: its `features` is the model's input width; set `augmentedDimensions` here.
    public var block: ODEBlockConfig
    /// Width of the output (classes for a classifier, targets for a regressor).
    public var outputs: Int

    public init(inputFeatures: Int, outputs: Int, augmentedDimensions: Int = 1) {
        block = ODEBlockConfig(features: inputFeatures)
        block.augmentedDimensions = augmentedDimensions
        self.outputs = outputs
    }
}

public final class AugmentedNODE: Layer {
    public let config: AugmentedNODEConfig
    public let block: ODEBlock
    public let head: Linear

    public init(config: AugmentedNODEConfig, generator: inout RandomGenerator) {
        self.config = config
        block = ODEBlock(config: config.block, generator: &generator)
        head = Linear(config.block.stateFeatures, config.outputs, generator: &generator)
    }

    /// `[batch, inputFeatures]` to `[batch, outputs]`.
    public func callAsFunction(_ input: Tensor) -> Tensor { head(block(input)) }

    /// NFE of the last forward solve.
    public var lastFunctionEvaluations: Int { block.lastFunctionEvaluations }
}
