import Foundation
import TesseraCheckpoint
import TesseraConfig
import TesseraPicture
import TesseraTensor

extension GenerativeTasks {
    /// `tessera counterfactual`: moves `count` held-out digits of other classes toward
    /// `targetClass` in the latent space of the generator in `checkpoint` and, for comparison, on
    /// their pixels (`LatentCounterfactualStudy`), writes the figure (rows original / latent /
    /// pixel, the yardstick's class under every digit) to `output`, and returns the measures as a
    /// table. `pixelAttack` is `yardstick` (white box) or `classifier` (an MLP of the pixels);
    /// `yardstick` overrides the recipe's `evaluation.yardstick`, trained on demand into
    /// `yardstickCache`. Everything is checked before the work starts and nothing is written
    /// unless the study succeeds.
    public static func counterfactuals(checkpoint path: String, targetClass: Int, count: Int, seed: UInt64, pixelAttack: String,
                                       probability: Float = 0.999, yardstick yardstickOverride: String?, output: String,
                                       yardstickCache: URL = URL(fileURLWithPath: "runs/yardstick")) throws -> String {
        guard (0..<10).contains(targetClass) else {
            throw TrainingError("--target \(targetClass) is out of range: the digits have classes 0…9")
        }
        guard count >= 2 else { throw TrainingError("--count must be at least 2 (the Fréchet distance fits a covariance), got \(count)") }
        guard let attack = LatentCounterfactualStudy.PixelAttack(rawValue: pixelAttack) else {
            throw TrainingError("--pixel-attack must be one of \(LatentCounterfactualStudy.PixelAttack.allCases.map(\.rawValue).joined(separator: ", ")), got '\(pixelAttack)'")
        }
        guard probability > 0.1, probability < 1 else {
            throw TrainingError("--probability must lie in (0.1, 1): the target-class probability both searches climb to, got \(probability)")
        }
        var options = LatentCounterfactualStudy.Options(targetClass: targetClass)
        options.count = count
        options.seed = seed
        options.pixelAttack = attack
        options.latentSearch.targetProbability = probability
        options.pixelSearch.targetProbability = probability
        return try counterfactuals(checkpoint: path, options: options, yardstick: yardstickOverride, output: output,
                                   yardstickCache: yardstickCache).report
    }

    /// The study of the public `counterfactuals(checkpoint:targetClass:…)`
    /// with every setting of its searches, and its report.
    static func counterfactuals(checkpoint path: String, options: LatentCounterfactualStudy.Options, yardstick yardstickOverride: String?,
                                output: String, yardstickCache: URL) throws -> (study: LatentCounterfactualStudy, report: String) {
        let outputURL = URL(fileURLWithPath: output)
        var isDirectory: ObjCBool = false
        let folder = outputURL.deletingLastPathComponent()
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TrainingError("--output \(output): the directory \(folder.path) does not exist")
        }
        let checkpoint = try Checkpoint.read(from: path)
        guard checkpoint.metadata["task"] == taskName else {
            throw TrainingError("\(path): not a generator's checkpoint (its task is \(checkpoint.metadata["task"] ?? "not recorded")); tessera counterfactual takes checkpoints of task: \(taskName) runs (vae, nice, realnvp, glow)")
        }
        let recipe = try Recipe(yaml: try TrainingCheckpoint.recipe(of: checkpoint, path: path), file: path).decode(GenerativeRecipe.self)
        do {
            try LatentSpace.check(recipe.model.kind)
        } catch {
            throw TrainingError("\(path): \(error)")
        }
        let yardstickPath = yardstickOverride ?? recipe.evaluation.yardstick
        guard !yardstickPath.isEmpty else {
            throw TrainingError("\(path): its recipe names no yardstick (evaluation.yardstick is empty); pass --yardstick RECIPE (configs/generative-yardstick-digits.yaml)")
        }
        guard FileManager.default.fileExists(atPath: yardstickPath) else {
            throw TrainingError("the yardstick recipe \(yardstickPath) does not exist (run from the repository's root, or pass --yardstick RECIPE)")
        }

        var initialization = RandomGenerator(seed: recipe.seed).derived(stream: RandomStreams.initialization)
        let network = try GenerativeNetwork(recipe.model, levels: recipe.data.levels, generator: &initialization)
        let progress = try TrainingCheckpoint.restore(checkpoint, path: path, model: network.module, optimizer: nil)
        let judge = try Yardstick(recipePath: yardstickPath, cacheRoot: yardstickCache)
        let study = try LatentCounterfactualStudy(network: network, recipe: recipe, yardstick: judge, options: options)
        try study.figure().writePNG(to: outputURL)
        let report = study.report(title: "\(recipe.name) (\(recipe.model.kind.rawValue), step \(progress.step))", yardstick: yardstickPath)
        return (study, report + "\nwrote \(output)")
    }
}

extension LatentSpace {
    /// Throws unless `kind` has a latent space to move digits in.
    static func check(_ kind: GenerativeModelSection.Kind) throws {
        switch kind {
        case .vae, .nice, .realnvp, .glow:
            return
        case .cvae:
            throw TrainingError("a cvae is told the digit's class, so its latent carries no class to move toward another (`tessera sample --class C` draws its digits of class C); counterfactuals take a vae, nice, realnvp or glow checkpoint")
        case .pixelcnn:
            throw TrainingError("a pixelcnn has no latent space to move a digit in; counterfactuals take a vae, nice, realnvp or glow checkpoint")
        case .ddpm:
            throw TrainingError("a ddpm's noise x_T is reached only through its whole sampling chain, which this search does not invert; counterfactuals take a vae, nice, realnvp or glow checkpoint")
        }
    }
}

extension LatentCounterfactualStudy {
    /// The measures as a table, one row per set of images, with the searches' own statistics below.
    func report(title: String, yardstick: String) -> String {
        let target = options.targetClass
        func row(_ name: String, _ m: Measures) -> String {
            name.padding(toLength: 26, withPad: " ", startingAt: 0)
                + [String(format: "%8.3f", m.successRate), String(format: "%9.3f", m.targetProbability),
                   String(format: "%10.2f", m.frechetDistance), String(format: "%10.2f", m.nearestFeatureDistance),
                   String(format: "%9.3f", m.meanPixelChange)].joined(separator: "  ")
        }
        let pixelClassifier = options.pixelAttack == .yardstick
            ? "the yardstick itself (white box)"
            : String(format: "an MLP of the pixels (held-out accuracy %.3f)", pixelClassifierAccuracy ?? .nan)
        let header = "".padding(toLength: 26, withPad: " ", startingAt: 0) + " success  target p  FID to \(target)  nearest f  mean |Δx|"
        var lines: [String] = [
            "counterfactuals toward class \(target) of \(options.count) held-out digits of other classes, \(title)",
            "judged by the yardstick \(yardstick); FID and feature distances are in its penultimate features (an FID on our own digits classifier) against the training digits of class \(target)",
            header,
            row("original digits", originalMeasures),
            row("\(kind) reconstructions", reconstructions),
            row("latent counterfactuals", latent.measures),
            row("pixel counterfactuals", pixel.measures),
            row("held-out digits of \(target)", heldOutTarget),
        ]
        for (name, measures) in [("latent", latent.measures), ("pixel", pixel.measures)] where measures.nonFiniteCount > 0 {
            lines.append("\(measures.nonFiniteCount) \(name) counterfactuals have non-finite pixels: counted as misses, left out of the distances")
        }
        lines.append(String(format: "latent search: a classifier of the %@ latents (held-out accuracy %.3f) reached p ≥ %.3g for %.0f%% of the digits in %.0f steps on average",
                            kind, latentClassifierAccuracy, Double(options.latentSearch.targetProbability), 100 * latent.reachedShare, latent.meanSteps))
        lines.append(String(format: "pixel search: %@ reached p ≥ %.3g for %.0f%% of the digits in %.0f steps on average",
                            pixelClassifier, Double(options.pixelSearch.targetProbability), 100 * pixel.reachedShare, pixel.meanSteps))
        return lines.joined(separator: "\n")
    }

    /// Blocks of up to 16 digits, each three rows (the originals, their latent and their pixel
    /// counterfactuals) with the yardstick's class under every digit: green where it is the
    /// target, red where a counterfactual missed it.
    func figure() -> RGBImage {
        let columnsPerBlock = 16, margin = 6, labelWidth = 60, captionHeight = 10, titleHeight = 16
        let rows: [(String, Tensor, [Int])] = [("original", originals, originalMeasures.predictedClasses),
                                               ("latent", latent.images, latent.measures.predictedClasses),
                                               ("pixel", pixel.images, pixel.measures.predictedClasses)]
        let side = GenerativeDataSection.imageSide, size = GenerativeNetwork.dimensions
        let count = originals.shape[0], blocks = (count + columnsPerBlock - 1) / columnsPerBlock
        let tiles = { (images: Tensor, range: Range<Int>) -> ImageGrid in
            let values = images.scalars
            var grid = ImageGrid(grayscale: range.map { Array(values[($0 * size)..<(($0 + 1) * size)]) }, width: side, height: side)
            grid.columns = columnsPerBlock
            grid.background = (255, 255, 255)
            return grid
        }
        let sample = tiles(originals, 0..<min(count, columnsPerBlock)).render()
        let rowHeight = sample.height + captionHeight, blockGap = 8
        var image = RGBImage(width: margin + labelWidth + sample.width + margin,
                             height: titleHeight + blocks * (3 * rowHeight + blockGap) + margin)
        image.draw(text: "toward class \(options.targetClass) - \(kind) latent against pixel search - yardstick class under each digit",
                   x: margin, y: margin, color: (0, 0, 0))
        for block in 0..<blocks {
            let range = (block * columnsPerBlock)..<min((block + 1) * columnsPerBlock, count)
            for (index, (label, images, predicted)) in rows.enumerated() {
                let top = titleHeight + block * (3 * rowHeight + blockGap) + index * rowHeight
                let grid = tiles(images, range), picture = grid.render()
                for y in 0..<picture.height {
                    for x in 0..<picture.width { image.set(margin + labelWidth + x, top + y, picture.get(x, y)) }
                }
                image.draw(text: label, x: margin, y: top + picture.height / 2 - 3, color: (0, 0, 0))
                for (offset, example) in range.enumerated() {
                    let origin = grid.origin(ofTile: offset), cls = predicted[example]
                    let color: (UInt8, UInt8, UInt8) = index == 0 ? (90, 90, 90) : (cls == options.targetClass ? (0, 140, 0) : (200, 0, 0))
                    image.draw(text: cls < 0 ? "nan" : "\(cls)", x: margin + labelWidth + origin.x + grid.scale * side / 2 - 2,
                               y: top + picture.height, color: color)
                }
            }
        }
        return image
    }
}
