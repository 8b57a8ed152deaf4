import TesseraTensor

/// Small grey images of one filled shape each — a square, a disc or a cross — at a random
/// position, size and brightness on a black canvas; the label is the shape.
///
/// A data set with known structure and no download, for self-supervised and generative methods:
/// augmentations must keep the class (shape) while changing position, size and brightness, and
/// a generator's samples can be checked by eye. Inputs are `[count, 1, canvasSize, canvasSize]`
/// in `[0, 1]`, labels `[count]` (`Shape.rawValue`), classes balanced exactly and shuffled.
///
/// ```swift
/// var rng = RandomGenerator(seed: 3)
/// let shapes = SyntheticShapes.make(count: 1024, canvasSize: 16, generator: &rng)
/// ```
public enum SyntheticShapes {
    public enum Shape: Int, CaseIterable, Sendable {
        /// Every pixel within `halfSize` of the centre in both axes.
        case square
        /// Every pixel within Euclidean distance `halfSize` of the centre.
        case disc
        /// The centre row and column out to `halfSize`, one pixel wide (three from `halfSize` 4 on).
        case cross
    }

    /// `count` images on a `canvasSize × canvasSize` canvas. Each shape gets a half size
    /// uniform in `2 ... canvasSize / 4 + 1`, a centre that keeps it inside the canvas, and an
    /// intensity uniform in `[0.6, 1)`; then Gaussian noise of standard deviation `noise` is
    /// added and pixels are clamped to `[0, 1]`.
    public static func make(count: Int, canvasSize: Int = 16, noise: Float = 0,
                            generator: inout RandomGenerator) -> TensorDataset {
        precondition(canvasSize >= 8, "Tessera SyntheticShapes: canvasSize must be at least 8, got \(canvasSize)")
        let classes = Shape.allCases.count
        let labels = (0..<count).map { Float($0 % classes) }
        let order = generator.permutation(count)
        let pixelsPerImage = canvasSize * canvasSize
        let images = Tensor.zeros([count, 1, canvasSize, canvasSize])
        for (position, example) in order.enumerated() {
            let shape = Shape(rawValue: Int(labels[example]))!
            let halfSize = 2 + generator.nextInt(below: canvasSize / 4)
            let span = canvasSize - 2 * halfSize
            let centerRow = halfSize + generator.nextInt(below: span)
            let centerColumn = halfSize + generator.nextInt(below: span)
            let intensity = 0.6 + 0.4 * generator.nextUniform()
            draw(shape, into: images.storage.pointer + position * pixelsPerImage, canvasSize: canvasSize,
                 centerRow: centerRow, centerColumn: centerColumn, halfSize: halfSize, intensity: intensity)
        }
        var inputs = images
        if noise > 0 {
            inputs = (images + Tensor.randomNormal(images.shape, standardDeviation: noise, generator: &generator))
                .clamp(min: 0, max: 1)
        }
        return TensorDataset(inputs: inputs, labels: Tensor(order.map { labels[$0] }))
    }

    /// Paints `shape` into a `canvasSize × canvasSize` plane.
    public static func draw(_ shape: Shape, into plane: UnsafeMutablePointer<Float>, canvasSize: Int,
                            centerRow: Int, centerColumn: Int, halfSize: Int, intensity: Float) {
        let armHalfWidth = halfSize >= 4 ? 1 : 0
        for row in Swift.max(0, centerRow - halfSize)...Swift.min(canvasSize - 1, centerRow + halfSize) {
            for column in Swift.max(0, centerColumn - halfSize)...Swift.min(canvasSize - 1, centerColumn + halfSize) {
                let dy = row - centerRow, dx = column - centerColumn
                let inside: Bool
                switch shape {
                case .square: inside = true
                case .disc: inside = dx * dx + dy * dy <= halfSize * halfSize
                case .cross: inside = abs(dx) <= armHalfWidth || abs(dy) <= armHalfWidth
                }
                if inside { plane[row * canvasSize + column] = intensity }
            }
        }
    }
}
