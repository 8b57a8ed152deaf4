import TesseraTensor

/// What one loss evaluation of a two-view method (SimCLR, BYOL) computed, for a trainer to log.
public struct TwoViewOutput {
    /// The method's loss over both views.
    public let loss: Tensor
    /// The encoder's representations of both views, `[2N, representationSize]` (first views, then
    /// second views): what downstream tasks use.
    public let representations: Tensor
    /// The projections of both views, `[2N, projectionSize]`, in the same order: where the loss is taken.
    public let projections: Tensor

    /// Per-dimension deviation and effective rank of the representations.
    public var monitors: CollapseStatistics { CollapseStatistics(embeddings: representations) }
    /// The same of the projections: SimSiam (Chen & He 2021, Fig. 2) watches this output, and a
    /// head can collapse while the encoder below it keeps its spread (BYOL without a predictor).
    public var projectionMonitors: CollapseStatistics { CollapseStatistics(embeddings: projections) }
}
