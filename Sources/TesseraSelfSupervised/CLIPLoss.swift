import TesseraNN
import TesseraTensor

/// CLIP's symmetric contrastive loss (Radford et al., "Learning Transferable Visual Models From
/// Natural Language Supervision", ICML 2021, Fig. 3): for N image–text pairs, the N × N cosine
/// similarities of the L2-normalised image and text embeddings, scaled by `exp(logitScale)` = 1/τ,
/// are logits twice over — each image classifies which of the N texts is its caption, each text
/// which of the N images it describes — and the loss is the mean of the two cross entropies:
///
/// ```
/// logits = exp(t) · norm(I) · norm(T)ᵀ
/// L = (CE(logits, 0..<N) + CE(logitsᵀ, 0..<N)) / 2
/// ```
///
/// The scale is a learned parameter passed in, not a setting: the paper learns τ as a
/// log-parameterised multiplicative scalar; ``CLIP`` owns it and keeps it at most 100.
///
/// With several processes every pair must meet the global batch's N − 1 negatives in both
/// directions: each process passes its own pairs and every process's embeddings, gathered in the
/// global order (``share(images:texts:rows:imageKeys:textKeys:logitScale:normalizingCount:)``).
public enum CLIPLoss {
    /// The mean symmetric loss of `images` and `texts` (`[N, d]` each, row i of both from pair i);
    /// `logitScale` is `[1]`, log(1/τ).
    public static func symmetric(images: Tensor, texts: Tensor, logitScale: Tensor) -> Tensor {
        precondition(images.shape == texts.shape, "CLIPLoss: images \(images.shape) and texts \(texts.shape) must have one shape")
        return share(images: images, texts: texts, rows: Array(0..<images.shape[0]), imageKeys: images, textKeys: texts,
                     logitScale: logitScale, normalizingCount: images.shape[0])
    }

    /// This process's part of the global loss: pair m (`images` and `texts` row m) is pair
    /// `rows[m]` of the global batch, whose embeddings are `imageKeys` and `textKeys` (`[N, d]`).
    /// The two cross entropies, summed over this process's pairs, are divided by
    /// `2 · normalizingCount` (the global N), so the processes' parts add up to the global mean.
    public static func share(images: Tensor, texts: Tensor, rows: [Int], imageKeys: Tensor, textKeys: Tensor,
                             logitScale: Tensor, normalizingCount: Int) -> Tensor {
        precondition(images.shape[0] == rows.count && texts.shape[0] == rows.count && imageKeys.shape == textKeys.shape,
                     "CLIPLoss: \(rows.count) rows for images \(images.shape), texts \(texts.shape), keys \(imageKeys.shape) and \(textKeys.shape)")
        let scale = logitScale.exp()
        let targets = Tensor(rows.map(Float.init))
        let imageToText = l2Normalized(images).matmul(transposed: l2Normalized(textKeys)) * scale
        let textToImage = l2Normalized(texts).matmul(transposed: l2Normalized(imageKeys)) * scale
        return (crossEntropy(logits: imageToText, targets: targets, reduction: .sum)
            + crossEntropy(logits: textToImage, targets: targets, reduction: .sum)) / Float(2 * normalizingCount)
    }
}
