import Testing
@testable import TesseraTensor

/// Misuse stops the process with a message naming the op and the shapes involved (tensor ops do
/// not throw, like PyTorch's). Each case runs in a child process (swift-testing exit tests), whose
/// standard error must carry the message.
@Suite struct ErrorsTests {
    @Test func addingUnbroadcastableShapesNamesOpAndShapes() async throws {
        let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]) + Tensor.zeros([4])
        }
        expectMessage(result, contains: "Tessera add: shapes [2, 3] and [4] cannot be broadcast together")
    }

    @Test func matmulWithDifferentInnerExtentsNamesShapes() async throws {
        let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).matmul(Tensor.zeros([4, 5]))
        }
        expectMessage(result, contains: "Tessera matmul: inner extents differ: shapes [2, 3] and [4, 5]")
    }

    @Test func matmulWithUnbroadcastableBatchesNamesShapes() async throws {
        let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3, 4]).matmul(Tensor.zeros([3, 4, 5]))
        }
        expectMessage(result, contains: "Tessera matmul: shapes [2] and [3] cannot be broadcast together")
    }

    @Test func axisOutOfRangeNamesOpAndRank() async throws {
        let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).sum(alongAxis: 2)
        }
        expectMessage(result, contains: "Tessera sum: axis 2 is out of range for a tensor of rank 2")
    }

    @Test func negativeAxisOutOfRangeIsRejected() async throws {
        let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).softmax(alongAxis: -3)
        }
        expectMessage(result, contains: "axis -3 is out of range for a tensor of rank 2")
    }

    @Test func layerNormalizedNamesFeatureCountAndWeightShape() async throws {
        let rows = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 6]).layerNormalized(featureCount: 7, weight: nil, bias: nil, epsilon: 1e-5)
        }
        expectMessage(rows, contains: "Tessera layerNormalized: 7 features do not divide the rows of shape [2, 6]")
        let weight = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 6]).layerNormalized(featureCount: 6, weight: Tensor.ones([5]), bias: nil, epsilon: 1e-5)
        }
        expectMessage(weight, contains: "weight of shape [5] must hold 6 elements for input [2, 6]")
    }

    @Test func gatherIndexOutOfRangeNamesIndexAndExtent() async throws {
        let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).gather(alongAxis: 1, indices: Tensor([[0, 3]]))
        }
        expectMessage(result, contains: "Tessera gather: index 3.0 is out of range 0..<3 along axis 1")
    }

    @Test func fractionalIndexIsRejected() async throws {
        let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([4, 2]).embeddingLookup(Tensor([1.5]))
        }
        expectMessage(result, contains: "Tessera indexSelect: index 1.5 is out of range 0..<4 along axis 0")
    }

    @Test func reshapeToWrongElementCountNamesShapes() async throws {
        let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).reshape([4, -1])
        }
        expectMessage(result, contains: "Tessera reshape: cannot reshape [2, 3] (6 elements) into [4, -1]")
    }

    @Test func backwardOfNonScalarWithoutSeedIsRejected() async throws {
        let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            (Tensor.zeros([2]).requiringGradient() * 2).backward()
        }
        expectMessage(result, contains: "Tessera backward: a seed gradient is needed for a non-scalar output of shape [2]")
    }

    private func expectMessage(_ result: ExitTest.Result, contains expected: String,
                               sourceLocation: SourceLocation = #_sourceLocation) {
        let message = String(decoding: result.standardErrorContent, as: UTF8.self)
        #expect(message.contains(expected), "standard error was: \(message)", sourceLocation: sourceLocation)
    }
}
