"""Golden values for TesseraSelfSupervised's downstream uses of frozen features, computed with
scikit-learn (install it into the generating Python: `pip install scikit-learn`). Inputs are rounded
to float32 before scikit-learn sees them, so both sides work on the same numbers.

  probe.*    LogisticRegression(C=0.5, lbfgs, multinomial) on StandardScaler-standardised features:
             .train_x [120, 5], .train_y [120] (3 classes), .test_x [40, 5]; .coef [5, 3]
             (coef_ transposed to Tessera's [d, C]), .intercept [3] (minus its mean: the softmax
             bias is only fixed up to a constant), .probabilities [40, 3] on test_x.
  knn.*      KNeighborsClassifier(metric="cosine", algorithm="brute", uniform weights):
             .gallery_x [90, 6], .gallery_y [90] (4 classes), .query_x [50, 6];
             .predicted_k1, .predicted_k5, .predicted_k8 [50].
  scores.*   Label pairs .a0/.b0 ... .a3/.b3 [200] (independent, correlated, relabelled copy,
             one cluster vs many); .nmi and .ari [4] from normalized_mutual_info_score and
             adjusted_rand_score.
  kmeans.*   .digits_inertia [1]: KMeans(n_clusters=10, n_init=10, random_state=0) on
             load_digits().data / 16 (Tessera's Digits scaling).
  auroc.*    .scores [150] rounded to one decimal (many ties), .labels [150] (1 = outlier);
             .value [1] from roc_auc_score.
  ica.*      .sources [2000, 3] (sine, square wave, sawtooth), .mixing [3, 3], .x = sources ·
             mixingᵀ [2000, 3]; .sklearn_sources [2000, 3] from FastICA(n_components=3,
             whiten="unit-variance", fun="logcosh", random_state=0).
"""
import numpy as np
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.decomposition import FastICA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, roc_auc_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

from common import FixtureWriter


def f32(array):
    return np.asarray(array, dtype=np.float32).astype(np.float64)


def blobs(rng, counts, dimension, spread):
    centres = rng.normal(size=(len(counts), dimension)) * spread
    x = np.concatenate([centres[c] + rng.normal(size=(n, dimension)) for c, n in enumerate(counts)])
    y = np.concatenate([np.full(n, c) for c, n in enumerate(counts)])
    order = rng.permutation(len(y))
    return f32(x[order]), y[order]


def main():
    out = FixtureWriter("TesseraSelfSupervisedTests", "downstream")
    rng = np.random.default_rng(14)

    # Linear probe: overlapping classes so the regularisation matters; one feature scaled by 50.
    x, y = blobs(rng, [40, 40, 40], 5, 1.2)
    x[:, 2] = x[:, 2] * 50 + 7
    test_x, _ = blobs(rng, [15, 15, 10], 5, 1.2)
    test_x[:, 2] = test_x[:, 2] * 50 + 7
    x, test_x = f32(x), f32(test_x)
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=0.5, tol=1e-12, max_iter=100000).fit(scaler.transform(x), y)
    out.add("probe.train_x", x)
    out.add("probe.train_y", y)
    out.add("probe.test_x", test_x)
    out.add("probe.coef", model.coef_.T)
    out.add("probe.intercept", model.intercept_ - model.intercept_.mean())
    out.add("probe.probabilities", model.predict_proba(scaler.transform(test_x)))

    # kNN with cosine similarity.
    gallery_x, gallery_y = blobs(rng, [30, 25, 20, 15], 6, 1.0)
    query_x, _ = blobs(rng, [15, 15, 10, 10], 6, 1.0)
    out.add("knn.gallery_x", gallery_x)
    out.add("knn.gallery_y", gallery_y)
    out.add("knn.query_x", query_x)
    for k in (1, 5, 8):
        knn = KNeighborsClassifier(n_neighbors=k, metric="cosine", algorithm="brute").fit(gallery_x, gallery_y)
        out.add(f"knn.predicted_k{k}", knn.predict(query_x))

    # Clustering scores on label pairs.
    a0, b0 = rng.integers(0, 4, 200), rng.integers(0, 5, 200)
    a1 = rng.integers(0, 6, 200)
    b1 = np.where(rng.random(200) < 0.7, a1, rng.integers(0, 6, 200))
    a2 = rng.integers(0, 5, 200)
    b2 = (a2 * 3 + 1) % 5 + 10  # a relabelled copy
    a3, b3 = np.zeros(200, dtype=int), rng.integers(0, 7, 200)
    pairs = [(a0, b0), (a1, b1), (a2, b2), (a3, b3)]
    for i, (a, b) in enumerate(pairs):
        out.add(f"scores.a{i}", a)
        out.add(f"scores.b{i}", b)
    out.add("scores.nmi", [normalized_mutual_info_score(a, b) for a, b in pairs])
    out.add("scores.ari", [adjusted_rand_score(a, b) for a, b in pairs])

    # k-means on the digits.
    digits = f32(load_digits().data / 16)
    out.add("kmeans.digits_inertia", [KMeans(n_clusters=10, n_init=10, random_state=0).fit(digits).inertia_])

    # AUROC with ties.
    labels = (rng.random(150) < 0.3).astype(int)
    scores = np.round(rng.normal(size=150) + labels * 0.8, 1)
    out.add("auroc.scores", scores)
    out.add("auroc.labels", labels)
    out.add("auroc.value", [roc_auc_score(labels, scores)])

    # FastICA on a known mixture of three non-Gaussian sources.
    time = np.linspace(0, 8, 2000)
    sources = np.stack([np.sin(2 * time), np.sign(np.sin(3 * time)), 2 * ((time * 1.3) % 1) - 1], axis=1)
    mixing = np.array([[1.0, 1.0, 1.0], [0.5, 2.0, 1.0], [1.5, 1.0, 2.0]])
    mixed = f32(sources @ mixing.T)
    ica = FastICA(n_components=3, whiten="unit-variance", fun="logcosh", random_state=0, max_iter=1000)
    out.add("ica.sources", sources)
    out.add("ica.mixing", mixing)
    out.add("ica.x", mixed)
    out.add("ica.sklearn_sources", ica.fit_transform(mixed))
    out.write()
