import TesseraTensor

/// Layers applied one after another; the k-th layer's parameters are named `layers.k.…`.
///
/// ```swift
/// let model = Sequential(Linear(2, 16, generator: &rng), ReLU(), Linear(16, 2, generator: &rng))
/// model.namedParameters().map(\.name)  // ["layers.0.weight", "layers.0.bias", "layers.2.weight", …]
/// ```
public final class Sequential: Layer {
    public let layers: [any Layer]

    public init(_ layers: any Layer...) {
        self.layers = layers
    }

    public init(layers: [any Layer]) {
        self.layers = layers
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        layers.reduce(input) { $1($0) }
    }
}

/// `x + body(x)`: a skip connection around any shape-preserving layer (He et al., "Deep Residual
/// Learning for Image Recognition", CVPR 2016).
public final class Residual<Body: Layer>: Layer {
    public let body: Body

    public init(_ body: Body) {
        self.body = body
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        input + body(input)
    }
}

/// Merges axes `startAxis...endAxis` into one (by default all but the batch axis).
public final class Flatten: Layer {
    public let startAxis: Int
    public let endAxis: Int

    public init(startAxis: Int = 1, endAxis: Int = -1) {
        self.startAxis = startAxis
        self.endAxis = endAxis
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.flattened(startAxis: startAxis, endAxis: endAxis)
    }
}
