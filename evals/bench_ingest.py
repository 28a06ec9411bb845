"""Ingestion benchmark (prints numbers; not a timed test).

Cold full-corpus ingest in a fresh process (model load included), the ratio of the pipeline's
embedding throughput to raw ``SentenceTransformer.encode`` on the same chunk texts, and the work an
unchanged re-ingest does. Run: ``python -m evals.bench_ingest``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from coalition.settings import Settings


def _cli(args: list[str], env: dict[str, str]) -> tuple[float, dict[str, object]]:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "coalition.cli", *args, "--json"], env=env, capture_output=True,
                         text=True, check=False)
    wall = time.perf_counter() - start
    return wall, json.loads(out.stdout)


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory() as tmp:
        env = os.environ | {"COALITION_INDEX_DIR": tmp}
        cold_wall, cold = _cli(["ingest"], env)
        warm_wall, warm = _cli(["ingest"], env)

        from ingest.embed import SentenceTransformerEmbedder
        from ingest.keyword import KeywordIndex
        from ingest.pipeline import Ingestor

        settings = Settings(index_dir=Path(tmp))
        texts = [c.text for c in KeywordIndex.load(settings.keyword_path).chunks]
        embedder = SentenceTransformerEmbedder(settings.embedding_model, settings.device, settings.embed_batch_size)
        embedder.warm_up()
        start = time.perf_counter()
        embedder.model.encode(texts, batch_size=settings.embed_batch_size, normalize_embeddings=True)
        raw = len(texts) / (time.perf_counter() - start)
        start = time.perf_counter()
        Ingestor(settings, embedder)._embed(sorted(texts, key=len), None, "chunks")
        pipeline = len(texts) / (time.perf_counter() - start)

    print(f"cold ingest (fresh process, model load included): {cold_wall:.2f} s wall, "
          f"{cold['seconds']:.2f} s in ingest, {cold['chunks']} chunks, {cold['embedded']} embedded, "
          f"{cold['sentences_embedded']} sentences embedded")
    print(f"unchanged re-ingest: {warm['seconds']:.2f} s of work after start-up ({warm_wall:.2f} s wall), "
          f"{warm['embedded']} embedded")
    print(f"embedding throughput: pipeline {pipeline:.1f} chunks/s, raw encode {raw:.1f} chunks/s, "
          f"ratio {pipeline / raw:.2f}")
    print("targets (2 cores): cold ≤ 15 s, ratio ≥ 0.85, unchanged re-ingest ≤ 1 s")


if __name__ == "__main__":
    main()
