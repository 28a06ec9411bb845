"""Store stage: an inverted-file index over unit vectors, for a view that would otherwise scan every row.

The sentence view compares a question with every sentence's vector. At 474k sentences (100k passages)
that exact scan is 730 MB of memory read, about 52 ms a question on 2 cores, and grows with the corpus.
Past ``APPROXIMATE_FROM`` rows, ``coalition ingest`` clusters the vectors (k-means, about √n clusters,
scikit-learn's ``MiniBatchKMeans``) and stores the centroids and each cluster's rows beside them; a
question then scans the rows of its nearest ``PROBE`` share of clusters. Below it nothing is fitted and
the scan stays exact. ``evals/bench_scale.py`` prints the time and the recall it costs.

Example::

    clusters = Clusters.fit(vectors)                 # at ingest
    rows = clusters.rows(question_vector)            # the rows worth scanning, in row order
"""

from __future__ import annotations

import math

import numpy as np

APPROXIMATE_FROM = 100_000  # rows: below it an exact scan costs ~10 ms or less here
PROBE = 1 / 32  # the share of clusters a question scans (at least MIN_PROBE of them)
MIN_PROBE = 8


class Clusters:
    """Unit centroids and, cluster by cluster, the rows nearest each (``order[offsets[j]:offsets[j + 1]]``)."""

    def __init__(self, centroids: np.ndarray, order: np.ndarray, offsets: np.ndarray) -> None:
        self.centroids = centroids
        self.order = order
        self.offsets = offsets

    @classmethod
    def fit(cls, vectors: np.ndarray, seed: int = 0) -> Clusters:
        from sklearn.cluster import MiniBatchKMeans

        k = max(1, int(math.sqrt(len(vectors))))
        labels = MiniBatchKMeans(n_clusters=k, batch_size=4096, n_init=1, random_state=seed).fit_predict(vectors)
        centroids = np.stack([vectors[labels == j].mean(axis=0) if (labels == j).any() else np.zeros(vectors.shape[1])
                              for j in range(k)]).astype(np.float32)
        centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
        order = np.argsort(labels, kind="stable").astype(np.int64)
        offsets = np.searchsorted(labels[order], np.arange(k + 1)).astype(np.int64)
        return cls(centroids, order, offsets)

    @classmethod
    def of(cls, arrays: dict[str, np.ndarray]) -> Clusters | None:
        """From the arrays a vectors file stores (``arrays()``); None where it stores none."""
        if "centroids" not in arrays:
            return None
        return cls(arrays["centroids"], arrays["order"], arrays["offsets"])

    def arrays(self) -> dict[str, np.ndarray]:
        return {"centroids": self.centroids, "order": self.order, "offsets": self.offsets}

    def rows(self, query: np.ndarray) -> np.ndarray:
        """The rows of the clusters nearest ``query``, in row order."""
        probe = min(len(self.centroids), max(MIN_PROBE, math.ceil(len(self.centroids) * PROBE)))
        sims = self.centroids @ query
        nearest = np.argpartition(-sims, probe - 1)[:probe]
        return np.sort(np.concatenate([self.order[self.offsets[j] : self.offsets[j + 1]] for j in nearest]))
