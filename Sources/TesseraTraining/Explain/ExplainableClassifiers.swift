import TesseraExplain
import TesseraNN

/// The convolutional classifier's forward pass as the explainer walks it: for each block the
/// convolution, its batch norm (folded into the convolution before relevance is propagated),
/// the activation and the 2×2 max pool; then flatten, the hidden layer and its activation, and the
/// logits. Dropout is the identity in evaluation and is left out.
extension ConvolutionalClassifier: ExplainableModel {
    public func explainableLayers() throws -> [ExplainableLayer] {
        var steps: [ExplainableLayer] = []
        for index in convolutions.indices {
            steps.append(ExplainableLayer(name: "convolutions.\(index)", layer: convolutions[index]))
            if !normalizations.isEmpty {
                steps.append(ExplainableLayer(name: "normalizations.\(index)", layer: normalizations[index]))
            }
            steps += [ExplainableLayer(name: "activation.\(index)", layer: activation.layer),
                      ExplainableLayer(name: "pool.\(index)", layer: MaxPool2d(kernelSize: 2))]
        }
        return steps + [ExplainableLayer(name: "flatten", layer: Flatten()),
                        ExplainableLayer(name: "hidden", layer: hidden),
                        ExplainableLayer(name: "activation.hidden", layer: activation.layer),
                        ExplainableLayer(name: "output", layer: output)]
    }
}
