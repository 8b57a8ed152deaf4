import Testing
@testable import TesseraTensor

@Suite struct PoolingTests {
    let fixture: Fixture

    init() throws { fixture = try Fixture("pooling") }

    private func params(_ prefix: String) throws -> [Float] {
        try fixture.tensor("\(prefix)/params").scalars
    }

    @Test(arguments: ["kernel2_stride2", "kernel3_stride2_padding1", "nonsquare_dilation", "ceil_mode", "ties_go_to_first",
                      "halving_wide_rows", "halving_ties"])
    func maxPool2dMatchesPyTorch(_ name: String) throws {
        let p = try params("maxPool2d/\(name)").map { Int($0) }
        var indices: Tensor?
        try expectFirstOrderMatchesFixture(fixture, "maxPool2d/\(name)", inputs: ["input"]) { t in
            let result = t["input"]!.maxPool2dWithIndices(kernelSize: IntOrPair(p[0], p[1]), stride: IntOrPair(p[2], p[3]),
                                                          padding: IntOrPair(p[4], p[5]), dilation: IntOrPair(p[6], p[7]),
                                                          ceilMode: p[8] == 1)
            indices = result.indices
            return result.values
        }
        #expect(try indices?.scalars == fixture.tensor("maxPool2d/\(name)/indices").scalars)
    }

    @Test func maxPool1dMatchesPyTorch() throws {
        let p = try params("maxPool1d/kernel3_stride2_padding1").map { Int($0) }
        try expectFirstOrderMatchesFixture(fixture, "maxPool1d/kernel3_stride2_padding1", inputs: ["input"]) { t in
            t["input"]!.maxPool1d(kernelSize: p[0], stride: p[1], padding: p[2])
        }
    }

    @Test(arguments: ["kernel2_stride2", "padding_counted", "padding_not_counted", "ceil_mode_counted", "ceil_mode_not_counted"])
    func avgPool2dMatchesPyTorch(_ name: String) throws {
        let p = try params("avgPool2d/\(name)").map { Int($0) }
        try expectFirstOrderMatchesFixture(fixture, "avgPool2d/\(name)", inputs: ["input"]) { t in
            t["input"]!.avgPool2d(kernelSize: IntOrPair(p[0], p[1]), stride: IntOrPair(p[2], p[3]),
                                  padding: IntOrPair(p[4], p[5]), ceilMode: p[6] == 1, countIncludePad: p[7] == 1)
        }
    }

    @Test func avgPool1dMatchesPyTorch() throws {
        let p = try params("avgPool1d/kernel4_stride3_padding2").map { Int($0) }
        try expectFirstOrderMatchesFixture(fixture, "avgPool1d/kernel4_stride3_padding2", inputs: ["input"]) { t in
            t["input"]!.avgPool1d(kernelSize: p[0], stride: p[1], padding: p[2], countIncludePad: false)
        }
    }

    @Test(arguments: ["uneven", "larger_output"])
    func adaptiveAvgPool2dMatchesPyTorch(_ name: String) throws {
        let p = try params("adaptiveAvgPool2d/\(name)").map { Int($0) }
        try expectFirstOrderMatchesFixture(fixture, "adaptiveAvgPool2d/\(name)", inputs: ["input"]) { t in
            t["input"]!.adaptiveAvgPool2d(outputSize: IntOrPair(p[0], p[1]))
        }
    }

    @Test(arguments: ["nearest_size", "nearest_scale2", "nearest_scale1_5", "nearest_downsample",
                      "bilinear_size", "bilinear_size_align_corners", "bilinear_scale2", "bilinear_scale2_align_corners",
                      "bilinear_downsample", "bilinear_downsample_align_corners"])
    func interpolationMatchesPyTorch(_ name: String) throws {
        let p = try params("interpolate/\(name)")
        let (size, scale, alignCorners) = (IntOrPair(Int(p[0]), Int(p[1])), p[2], p[3] == 1)
        try expectFirstOrderMatchesFixture(fixture, "interpolate/\(name)", inputs: ["input"]) { t in
            let x = t["input"]!
            switch (name.hasPrefix("nearest"), scale > 0) {
            case (true, true): return x.upsampleNearest2d(scale: scale)
            case (true, false): return x.upsampleNearest2d(size: size)
            case (false, true): return x.upsampleBilinear2d(scale: scale, alignCorners: alignCorners)
            case (false, false): return x.upsampleBilinear2d(size: size, alignCorners: alignCorners)
            }
        }
    }

    @Test func secondOrderGradientsMatchPyTorch() throws {
        let cases: [(String, (Tensor) -> Tensor)] = [
            ("maxPool2d", { $0.maxPool2d(kernelSize: 3, stride: 2, padding: 1) }),
            ("avgPool2d", { $0.avgPool2d(kernelSize: 3, stride: 2, padding: 1, countIncludePad: false) }),
            ("bilinear", { $0.upsampleBilinear2d(size: [7, 9]) }),
        ]
        for (name, function) in cases {
            try expectSecondOrderMatchesFixture(fixture, "second_order/\(name)", inputs: ["input"]) { function($0[0]) }
        }
    }

    // MARK: - Behaviour

    @Test func maxPoolGradientGoesToTheFirstOfTiedMaxima() {
        let x = Tensor(shape: [1, 1, 2, 4], scalars: [5, 5, 1, 2,
                                                     5, 5, 2, 2]).requiringGradient()
        x.maxPool2d(kernelSize: 2).sum().backward()
        // Windows [5 5; 5 5] and [1 2; 2 2]: each gradient goes to the window's first maximum.
        #expect(x.grad?.scalars == [1, 0, 0, 1,
                                    0, 0, 0, 0])
    }

    @Test func maxPoolPropagatesNaNLikePyTorch() {
        // A NaN wins its window; the vectorised path (rows of 4+ windows) must not hide it.
        var scalars = [Float](repeating: 1, count: 2 * 8)
        scalars[3] = .nan
        let pooled = Tensor(shape: [1, 1, 2, 8], scalars: scalars).maxPool2dWithIndices(kernelSize: 2)
        #expect(pooled.values.scalars.map { $0.isNaN } == [false, true, false, false])
        #expect(pooled.indices.scalars == [0, 3, 4, 6])
    }

    @Test func maxPoolPaddingNeverWinsOverNegativeValues() {
        let x = Tensor(shape: [1, 1, 2, 2], scalars: [-3, -4, -5, -6])
        #expect(x.maxPool2d(kernelSize: 2, stride: 1, padding: 1).scalars == [-3, -3, -4, -3, -3, -4, -5, -5, -6])
    }

    @Test func averagePoolingGradientsMatchFiniteDifferences() {
        var rng = RandomGenerator(seed: 3)
        let input = Tensor.randomNormal([1, 2, 5, 6], generator: &rng)
        expectGradientMatchesFiniteDifferences(input) { x in
            let y = x.avgPool2d(kernelSize: [3, 2], stride: [2, 1], padding: 1, countIncludePad: false)
            return (y * y).sum()
        }
    }

    @Test func bilinearGradientsMatchFiniteDifferences() {
        var rng = RandomGenerator(seed: 4)
        let input = Tensor.randomNormal([1, 1, 3, 4], generator: &rng)
        expectGradientMatchesFiniteDifferences(input) { x in
            let y = x.upsampleBilinear2d(size: [5, 7], alignCorners: true)
            return (y * y).sum()
        }
    }

    @Test func nearestUpsamplingByTwoRepeatsEachPixel() {
        let x = Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4])
        #expect(x.upsampleNearest2d(scale: 2).scalars == [1, 1, 2, 2,
                                                          1, 1, 2, 2,
                                                          3, 3, 4, 4,
                                                          3, 3, 4, 4])
    }

    @Test func poolingPaddingLargerThanHalfTheKernelStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 1, 4, 4]).maxPool2d(kernelSize: 2, padding: 2)
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("Tessera maxPool2d: padding 2 must be between 0 and half the kernel extent 2 (input shape [1, 1, 4, 4])"))
    }
}
