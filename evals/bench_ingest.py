"""Ingestion benchmark (prints numbers; not a timed test), the code before the LlamaIndex port and now,
side by side in one run.

For each side (``--before``, a git revision exported to a temp folder, and this tree): a cold
full-corpus ingest in a fresh process (model load included), an unchanged re-ingest, and a re-ingest
after one document changed by one sentence. Then the embedding throughput of this tree's pipeline step
(``LlamaEmbedding`` over nodes) against raw ``SentenceTransformer.encode`` on the same chunk texts.
Both sides skip the multilingual view unless ``--multilingual`` (it costs 0.3–0.5 s a passage on 2 cores
and is the same code on both sides). Run: ``python -m evals.bench_ingest [--before REV]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from core.settings import PROJECT_ROOT, Settings

BEFORE = "362156a"  # the last commit before ingestion was built on LlamaIndex's IngestionPipeline
CHANGED = ("industriall-joins.txt", "Høie added.", "Høie added, pledging a training programme.")


def _cli(tree: Path, env: dict[str, str]) -> tuple[float, dict[str, object]]:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "coalition.cli", "ingest", "--json"], cwd=tree, capture_output=True,
                         env=env | {"PYTHONPATH": str(tree)}, text=True, check=False)
    wall = time.perf_counter() - start
    if out.returncode not in (0, 2):
        raise SystemExit(f"ingest failed in {tree}: {out.stderr[-2000:]}")
    return wall, json.loads(out.stdout)


def _side(tree: Path, tmp: Path, multilingual: bool) -> dict[str, tuple[float, dict[str, object]]]:
    corpus = tmp / "corpus"
    shutil.copytree(PROJECT_ROOT / "corpus", corpus)
    env = os.environ | {"COALITION_INDEX_DIR": str(tmp / "index"), "COALITION_CORPUS_DIR": str(corpus),
                        "COALITION_MULTILINGUAL": str(multilingual).lower(), "HF_HUB_OFFLINE": "1"}
    runs = {"cold": _cli(tree, env), "unchanged": _cli(tree, env)}
    name, old, new = CHANGED
    (corpus / name).write_text((corpus / name).read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    runs["one changed document"] = _cli(tree, env)
    return runs


def _throughput(index: Path) -> tuple[float, float]:
    from llama_index.core.schema import TextNode

    from ingest.storage.keyword import KeywordIndex
    from ingest.transforms.embed import LlamaEmbedding, SentenceTransformerEmbedder

    settings = Settings(index_dir=index)
    texts = [c.text for c in KeywordIndex.load(settings.keyword_path).chunks]
    embedder = SentenceTransformerEmbedder(settings.embedding_model, settings.device, settings.embed_batch_size)
    embedder.warm_up()
    start = time.perf_counter()
    embedder.model.encode(texts, batch_size=settings.embed_batch_size, normalize_embeddings=True)
    raw = len(texts) / (time.perf_counter() - start)
    nodes = [TextNode(id_=str(i), text=t) for i, t in enumerate(texts)]
    start = time.perf_counter()
    LlamaEmbedding(embedder, settings.embed_batch_size)(nodes)
    return len(texts) / (time.perf_counter() - start), raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", default=BEFORE, help=f"git revision of the code before (default {BEFORE})")
    parser.add_argument("--multilingual", action="store_true", help="build the multilingual view too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        old_tree = root / "before-tree"
        old_tree.mkdir()
        archive = subprocess.run(["git", "archive", args.before], cwd=PROJECT_ROOT, check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(old_tree)], input=archive.stdout, check=True)
        (root / "before").mkdir()
        (root / "after").mkdir()
        sides = {f"before ({args.before})": _side(old_tree, root / "before", args.multilingual),
                 "after (this tree)": _side(PROJECT_ROOT, root / "after", args.multilingual)}
        pipeline, raw = _throughput(root / "after" / "index")

    print("| ingest | " + " | ".join(sides) + " |")
    print("|---|" + "---|" * len(sides))
    for phase in ("cold", "unchanged", "one changed document"):
        cells = []
        for runs in sides.values():
            wall, report = runs[phase]
            cells.append(f"{report['seconds']:.2f} s work, {wall:.2f} s wall; {report['chunks']} chunks, "
                         f"{report['embedded']} embedded, {report['sentences_embedded']} sentences embedded")
        print(f"| {phase} | " + " | ".join(cells) + " |")
    print(f"embedding throughput (after): pipeline {pipeline:.1f} chunks/s, raw encode {raw:.1f} chunks/s, "
          f"ratio {pipeline / raw:.2f}")
    print("targets (2 cores): cold ≤ 15 s, ratio ≥ 0.85, unchanged re-ingest ≤ 1 s; after within 10 % of before")


if __name__ == "__main__":
    main()
