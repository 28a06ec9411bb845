"""Scale benchmark (prints numbers; not a timed test): how ingest, the index, start-up, memory and answers
grow from the five documents to 1k, 10k and 100k passages.

The corpus is synthetic but built from the real one: each passage is a real passage (from the index
``coalition ingest`` built) with a sentence of another appended, its numbers renumbered and its countries
swapped, in a document of its own ("… (copy 17)"), so chunk lengths, metadata, BM25 statistics and
topics stay realistic. Vectors are injected, not embedded (2 cores embed ~60 passages/s): a passage's
vector is its source's, mixed with the appended sentence's source and noise; the embedding cost is
extrapolated from a rate measured here on real passages. The store and index writes (Chroma with its
HNSW index, BM25, sentence vectors, practice records) run for real through the ingest code. Each size is
then served by a fresh process (``--probe``) that reports start-up time, RSS and answer p50/p95 at
concurrency 1 and 8 in process, and times the exact vector scan against Chroma's HNSW with its recall.
The multilingual (e5) view is off here: at 0.3–0.5 s a passage it is the first thing that stops scaling.

Run: ``python -m evals.bench_scale [--sizes 1000,10000,100000] [--budget 900]`` (``coalition ingest``
first). A size whose build would overrun ``--budget`` seconds is not started; the table says so.
Targets at 100k passages on 2 cores: answer p95 ≤ 150 ms, RSS ≤ 2 GiB a process, start-up ≤ 30 s.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from evals.bench_answer import percentiles

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["COALITION_MULTILINGUAL"] = "false"
_NUMBER = re.compile(r"\b\d{1,4}\b")


def synthesize(chunks: list, vectors: np.ndarray, n: int, seed: int = 7) -> tuple[list, np.ndarray]:  # type: ignore[type-arg]
    from ingest.storage.store import StoredChunk
    from ingest.transforms import geo

    rng = random.Random(seed)
    noise = np.random.default_rng(seed)
    countries = sorted(geo.REGION_OF)
    out, vecs = [], np.empty((n, vectors.shape[1]), dtype=np.float32)
    for i in range(n):
        k, j = i % len(chunks), rng.randrange(len(chunks))
        src, other = chunks[k], chunks[j]
        copy = i // len(chunks)
        extra = other.text.split(". ")[0].strip()
        text = _NUMBER.sub(lambda m: str(rng.randrange(1, 10 ** len(m.group()))), f"{src.text}\n\n{extra}." if copy else src.text)
        for name in set(geo.mentioned(text)):
            text = text.replace(name, rng.choice(countries))
        meta = dict(src.metadata)
        doc = f"{meta.get('doc_id', 'doc')}-c{copy}" if copy else str(meta.get("doc_id", "doc"))
        meta.update(doc_id=doc, doc_fingerprint=f"{meta.get('doc_fingerprint', '')}-{copy}",
                    title=f"{meta.get('title', '')} (copy {copy})" if copy else meta.get("title", ""))
        out.append(StoredChunk(f"{src.id}-c{copy}" if copy else src.id, text, meta))
        v = vectors[k] + (0.35 * vectors[j] if copy else 0) + (0.04 * noise.standard_normal(vectors.shape[1]) if copy else 0)
        vecs[i] = v / np.linalg.norm(v)
    return out, vecs


def build(settings, chunks: list, vectors: np.ndarray, source_vectors: np.ndarray, model: str) -> dict[str, float]:  # type: ignore[no-untyped-def,type-arg]
    """Write a whole index for ``chunks`` through the ingest code, vectors injected; seconds per stage."""
    from ingest.reading.manifest import read_manifest
    from ingest.storage import keyword, sentences
    from ingest.storage.store import ChunkStore
    from ingest.transforms import practices

    timings: dict[str, float] = {}
    t = time.perf_counter()
    store = ChunkStore(settings)
    store.add_chunks(chunks, vectors)
    store.seal(store.fingerprint(read=True))  # as ingest does when it has finished writing
    timings["chroma"] = time.perf_counter() - t
    t = time.perf_counter()
    keyword.build(settings.keyword_path, chunks)
    timings["bm25"] = time.perf_counter() - t
    noise = np.random.default_rng(3)
    count = 0

    def fake_embed(texts: list[str]) -> np.ndarray:  # a real passage's vector, a little off: near its topic
        nonlocal count
        count += len(texts)
        base = source_vectors[[hash(x) % len(source_vectors) for x in texts]]
        out = base + 0.2 * noise.standard_normal(base.shape).astype(np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    t = time.perf_counter()
    sentences.build(settings.sentence_path, chunks, fake_embed, model)
    timings["sentences"] = time.perf_counter() - t
    timings["sentence_count"] = count
    t = time.perf_counter()
    practices.write(settings.practices_path, chunks, store, read_manifest(settings.manifest_path))
    timings["practices"] = time.perf_counter() - t
    return timings


def embedding_rate(texts: list[str]) -> tuple[float, str]:
    """Texts per second the real model embeds here (batches as ingest makes them), and its name."""
    from ingest.transforms.embed import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder("", "cpu", 16)
    embedder.embed(texts[:16])
    t = time.perf_counter()
    embedder.embed(texts)
    return len(texts) / (time.perf_counter() - t), embedder.name


def du_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident memory (``RssAnon``: its own; ``RssFile``: mapped files, shared and reclaimable)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def probe(index_dir: Path) -> dict[str, object]:
    """In a fresh process: start-up, RSS, answer latency at c=1 and c=8, exact scan vs HNSW."""
    from assistant.pipeline import Assistant
    from assistant.web import threads
    from core.settings import Settings
    from evals.gold import load_gold

    settings = Settings(index_dir=index_dir)
    threads.configure(settings)
    profile = cProfile.Profile()
    t = time.perf_counter()
    profile.enable()
    assistant = Assistant.from_settings(settings)
    profile.disable()
    startup = time.perf_counter() - t
    questions = [q.question for q in load_gold()]
    for q in questions[:5]:
        assistant.answer(q)
    result: dict[str, object] = {"startup_s": startup, "rss_mb": rss_mb(), "startup_parts": _top(profile),
                                 "rss_parts": {"anonymous": rss_mb("RssAnon"), "file-backed": rss_mb("RssFile")}}
    stages: dict[str, list[float]] = {}
    one: list[float] = []
    profile = cProfile.Profile()
    for q in questions:
        t = time.perf_counter()
        profile.enable()
        answer = assistant.answer(q)
        profile.disable()
        one.append((time.perf_counter() - t) * 1000)
        for stage, ms in answer.timings_ms.items():
            stages.setdefault(stage, []).append(ms)
    result["c1"] = percentiles(one)
    result["stages_p50"] = {s: float(np.percentile(v, 50)) for s, v in stages.items()}
    result["answer_parts"] = {k: v * 1000 / len(questions) for k, v in _top(profile).items()}

    def timed(q: str) -> float:
        t0 = time.perf_counter()
        assistant.answer(q)
        return (time.perf_counter() - t0) * 1000

    with ThreadPoolExecutor(8) as pool:
        t = time.perf_counter()
        eight = list(pool.map(timed, questions * 2))
        result["c8"] = percentiles(eight) | {"rps": len(eight) / (time.perf_counter() - t)}
    result["rss_after_mb"] = rss_mb()
    result["rss_after_parts"] = {"anonymous": rss_mb("RssAnon"), "file-backed": rss_mb("RssFile")}
    retriever = assistant.retriever.passages  # the vectors every view scores
    qvecs = retriever.embedder.embed(questions[:40])
    exact_ms, hnsw_ms, recall = [], [], []
    for qv in qvecs:
        t = time.perf_counter()
        sims = retriever.vectors @ qv
        exact = set(np.argpartition(-sims, 20)[:20].tolist())
        exact_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        got = retriever.store.query(qv, 20)
        hnsw_ms.append((time.perf_counter() - t) * 1000)
        recall.append(len(exact & {retriever.position[cid] for cid, _ in got if cid in retriever.position}) / 20)
    result["exact_ms"] = float(np.median(exact_ms))
    result["hnsw_ms"] = float(np.median(hnsw_ms))
    result["hnsw_recall20"] = float(np.mean(recall))
    return result


def _parts(parts: dict[str, float]) -> str:
    return f"{parts['anonymous']:.0f} / {parts['file-backed']:.0f} MB"


def _top(profile: cProfile.Profile, n: int = 6) -> dict[str, float]:
    """The project's functions (and the model's forward) that took longest, cumulative seconds: what grows."""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    rows = {}
    for (path, line, fn), (_cc, _nc, _tt, cum, _callers) in stats.items():
        mine = ("/assistant/" in path or "/ingest/" in path) and fn not in ("from_settings", "answer", "run", "prepare")
        if mine or fn == "_forward":
            rows[f"{Path(path).parent.name}/{Path(path).name}:{line} {fn}"] = cum
    return dict(sorted(rows.items(), key=lambda kv: -kv[1])[:n])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--budget", type=float, default=900, help="seconds for the whole run; later sizes are skipped")
    parser.add_argument("--probe", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--keep", type=Path, help="build the indexes here (kept) instead of a temp dir")
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(probe(args.probe)))
        return
    from core.settings import Settings
    from ingest.storage.store import ChunkStore

    started = time.perf_counter()
    real = Settings()
    base = ChunkStore(real, create=False).all_chunks()
    got = ChunkStore(real, create=False).embeddings([c.id for c in base])
    base_vectors = np.vstack([got[c.id] for c in base])
    rate, model = embedding_rate([c.text for c in base[:64]])
    print(f"source: {len(base)} real passages; the model embeds {rate:.0f} passages/s here (embedding is extrapolated)")
    root = args.keep or Path(tempfile.mkdtemp(prefix="coalition-scale-"))
    rows = []
    per_passage = None
    for n in (int(s) for s in args.sizes.split(",")):
        spent = time.perf_counter() - started
        if per_passage is not None and spent + per_passage * n * 1.3 > args.budget:
            print(f"{n:>7} passages: not run (would take ~{per_passage * n:.0f} s; "
                  f"{args.budget - spent:.0f} s of the budget left)")
            continue
        t0 = time.perf_counter()
        chunks, vectors = synthesize(base, base_vectors, n)
        settings = Settings(index_dir=root / f"n{n}", corpus_dir=real.corpus_dir)
        stages = build(settings, chunks, vectors, base_vectors, model)
        build_s = time.perf_counter() - t0
        per_passage = build_s / n
        embed_s = (n + stages["sentence_count"]) / rate
        out = subprocess.run([sys.executable, "-m", "evals.bench_scale", "--probe", str(settings.index_dir)],
                             capture_output=True, text=True, env=os.environ | {"PYTHONUNBUFFERED": "1"})
        if out.returncode != 0:
            print(f"{n:>7} passages: the probe failed: {out.stderr[-1500:]}")
            continue
        p = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append((n, p))
        print(f"\n{n:>7} passages ({int(stages['sentence_count'])} sentence vectors)")
        print(f"  ingest: store+index {build_s:.1f} s for real (chroma {stages['chroma']:.1f}, "
              f"keyword: BM25, n-grams and lexicon {stages['bm25']:.1f}, "
              f"sentences {stages['sentences']:.1f}, practices {stages['practices']:.1f}); embedding extrapolated "
              f"{embed_s / 60:.1f} min")
        sizes = {part.name: du_mb(part) if part.is_dir() else part.stat().st_size / 2**20
                 for part in settings.index_root.iterdir()}
        print(f"  index on disk {du_mb(settings.index_dir):.0f} MB (" + ", ".join(f"{k} {v:.0f}" for k, v in sizes.items()) + ")")
        print(f"  start-up {p['startup_s']:.1f} s; RSS {p['rss_mb']:.0f} MB loaded, {p['rss_after_mb']:.0f} MB after answering "
              f"(anonymous / file-backed: {_parts(p['rss_parts'])} loaded, {_parts(p['rss_after_parts'])} after)")
        print(f"  answer c=1 p50 {p['c1']['p50']:.1f} ms p95 {p['c1']['p95']:.1f} ms; c=8 p50 {p['c8']['p50']:.1f} ms "
              f"p95 {p['c8']['p95']:.1f} ms ({p['c8']['rps']:.0f} answers/s)")
        print("  stages p50: " + ", ".join(f"{k} {v:.1f}" for k, v in p["stages_p50"].items()) + " ms")
        print("  start-up, longest parts: " + "; ".join(f"{k} {v:.1f} s" for k, v in p["startup_parts"].items()))
        print("  an answer, longest parts (mean): " + "; ".join(f"{k} {v:.1f} ms" for k, v in p["answer_parts"].items()))
        print(f"  dense top-20: exact scan {p['exact_ms']:.2f} ms, Chroma HNSW {p['hnsw_ms']:.2f} ms "
              f"(recall@20 {p['hnsw_recall20']:.3f})")
    if rows:
        n, p = rows[-1]
        print(f"\ntargets at 100k passages on 2 cores (largest run: {n}): answer p95 ≤ 150 ms (c=1 {p['c1']['p95']:.0f}, "
              f"c=8 {p['c8']['p95']:.0f}); RSS ≤ 2048 MB ({p['rss_after_mb']:.0f}); start-up ≤ 30 s ({p['startup_s']:.1f})")
    print(f"indexes in {root}" if args.keep else "")


if __name__ == "__main__":
    main()
