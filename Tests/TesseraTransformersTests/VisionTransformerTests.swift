import Foundation
import Testing
import TesseraNN
import TesseraTensor
import TesseraTransformers

@Suite("Vision transformer")
struct VisionTransformerTests {
    @Test func patchEmbeddingEqualsStridedConvolution() {
        // The paper's patch embedding is a p×p convolution with stride p; ours is a reshape and a
        // matrix product. Same weights must give the same tokens.
        var rng = RandomGenerator(seed: 1)
        let embedding = PatchEmbedding(imageShape: [2, 6, 4], patchSize: 2, dimensions: 5, generator: &rng)
        let images = Tensor.randomNormal([3, 2, 6, 4], generator: &rng)
        let kernel = embedding.projection.weight.reshape([5, 2, 2, 2])
        let convolution = images.conv2d(weight: kernel, bias: embedding.projection.bias, stride: 2)  // [3, 5, 3, 2]
        let expected = convolution.reshape([3, 5, 6]).permuted([0, 2, 1])
        let difference = (embedding(images) - expected).abs().max().item
        #expect(difference < 1e-5, "largest difference \(difference)")
    }

    @Test func classifierOutputsOneLogitRowPerImage() {
        var rng = RandomGenerator(seed: 2)
        let model = VisionTransformer(VisionTransformerConfiguration(imageShape: [1, 8, 8], patchSize: 4, classCount: 10,
                                                                     layerCount: 1, headCount: 2, modelDimensions: 8),
                                      generator: &rng)
        #expect(model(Tensor.randomNormal([5, 1, 8, 8], generator: &rng)).shape == [5, 10])
        #expect(model.features(Tensor.randomNormal([2, 1, 8, 8], generator: &rng)).shape == [2, 5, 8])
    }

    @Test func trainingFitsASmallImageBatch() {
        var rng = RandomGenerator(seed: 3)
        let model = VisionTransformer(VisionTransformerConfiguration(imageShape: [1, 8, 8], patchSize: 4, classCount: 4,
                                                                     layerCount: 1, headCount: 2, modelDimensions: 16),
                                      generator: &rng)
        let images = Tensor.randomNormal([16, 1, 8, 8], generator: &rng)
        let labels = Tensor((0..<16).map { Float($0 % 4) })
        let optimizer = Adam(parameters: model.namedParameters(), learningRate: 1e-2)
        for _ in 0..<60 {
            optimizer.zeroGradients()
            crossEntropy(logits: model(images), targets: labels).backward()
            optimizer.step()
        }
        let accuracy = withoutGradients { model(images).argmax(alongAxis: -1).equal(labels).mean().item }
        #expect(accuracy == 1, "training accuracy \(accuracy) on 16 memorisable images")
    }

    @Test func patchSizeThatDoesNotDivideTheImageNamesBoth() async throws {
        let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var rng = RandomGenerator(seed: 0)
            _ = PatchEmbedding(imageShape: [1, 8, 8], patchSize: 3, dimensions: 4, generator: &rng)
        }
        let message = String(decoding: result.standardErrorContent, as: UTF8.self)
        #expect(message.contains("patch size 3 does not divide the 8×8 image"), "stderr: \(message)")
    }
}
