import Foundation
import TesseraPicture
import TesseraTensor

/// Attention maps as a heatmap image: one panel per layer and head (rows: layers, columns:
/// heads), each a `queries × keys` grid from white (0) to dark blue (the panel's largest weight),
/// with the layer's name above its row. The drawing is `Heatmap`'s; this checks the shapes.
public enum AttentionHeatmap {
    /// `maps` as returned by `Module.attentionProbabilities()`: `[batch, heads, queries, keys]`
    /// each; the first example of the batch is drawn.
    public static func render(_ maps: [(name: String, probabilities: Tensor)], cellSize: Int = 8) throws -> RGBImage {
        guard !maps.isEmpty else {
            throw TrainingError("no attention was recorded: the model has no attention layer, or no forward pass ran")
        }
        for (name, map) in maps where map.rank != 4 {
            throw TrainingError("attention map \(name) has shape \(map.shape), expected [batch, heads, queries, keys]")
        }
        let rows = maps.map { name, map in
            let (heads, queries, keys) = (map.shape[1], map.shape[2], map.shape[3])
            let values = map.scalars
            let panels = (0..<heads).map { head in
                let base = head * queries * keys
                return Heatmap.Panel(rows: queries, columns: keys, values: Array(values[base..<(base + queries * keys)]))
            }
            return Heatmap.Row(title: name, panels: panels)
        }
        var heatmap = Heatmap(rows: rows)
        heatmap.cellSize = cellSize
        return heatmap.render()
    }
}
