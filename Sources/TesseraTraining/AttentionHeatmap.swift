import Foundation
import TesseraTensor

/// Attention maps as a heatmap image: one panel per layer and head (rows: layers, columns:
/// heads), each a `queries × keys` grid from white (0) to dark blue (the panel's largest weight),
/// with the layer's name above its row.
public enum AttentionHeatmap {
    /// `maps` as returned by `Module.attentionProbabilities()`: `[batch, heads, queries, keys]`
    /// each; the first example of the batch is drawn.
    public static func render(_ maps: [(name: String, probabilities: Tensor)], cellSize: Int = 8) throws -> RGBImage {
        guard let first = maps.first else {
            throw TrainingError("no attention was recorded: the model has no attention layer, or no forward pass ran")
        }
        for (name, map) in maps where map.rank != 4 {
            throw TrainingError("attention map \(name) has shape \(map.shape), expected [batch, heads, queries, keys]")
        }
        let heads = maps.map { $0.probabilities.shape[1] }.max()!
        let queries = first.probabilities.shape[2], keys = first.probabilities.shape[3]
        let (margin, title) = (6, 12)
        let panelWidth = keys * cellSize, panelHeight = queries * cellSize
        var image = RGBImage(width: margin + heads * (panelWidth + margin),
                             height: maps.count * (title + panelHeight + margin) + margin)
        for (row, (name, map)) in maps.enumerated() {
            let top = margin + row * (title + panelHeight + margin)
            image.draw(text: name, x: margin, y: top, color: (0, 0, 0))
            let (mapHeads, mapQueries, mapKeys) = (map.shape[1], map.shape[2], map.shape[3])
            let values = map.scalars
            for head in 0..<mapHeads {
                let left = margin + head * (panelWidth + margin)
                let base = head * mapQueries * mapKeys
                let peak = max(values[base..<(base + mapQueries * mapKeys)].max() ?? 1, 1e-12)
                for query in 0..<mapQueries {
                    for key in 0..<mapKeys {
                        let shade = Double(values[base + query * mapKeys + key]) / Double(peak)
                        let color = (UInt8(255 - 225 * shade), UInt8(255 - 180 * shade), UInt8(255 - 60 * shade))
                        for dy in 0..<cellSize {
                            for dx in 0..<cellSize {
                                image.set(left + key * cellSize + dx, top + title + query * cellSize + dy, color)
                            }
                        }
                    }
                }
            }
        }
        return image
    }
}
