"""The baseline a LlamaIndex user would otherwise have, next to ours, in one run: the vanilla quickstart
(``SimpleDirectoryReader`` over ``corpus/``, ``VectorStoreIndex`` with its default splitter, the same
embedding model, top-5, answer = the retrieved text, never declining) scored by the same eval as
``Assistant.run`` (``coalition eval``): the user-visible metrics and the in-process latency p50/p95.

Run (after ``coalition ingest``): ``python -m evals.bench_baseline`` (the blind test split, as the gate),
``--split dev``, ``--json`` for machines.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

from llama_index.core import Settings as LlamaSettings
from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import NodeWithScore
from pydantic import PrivateAttr

from assistant.models import Answer, Citation
from assistant.retrieval.retrieve import Candidate
from core.settings import Settings
from evals.gold import GoldQuestion
from evals.run import named_sets, run_eval
from evals.scorer import USER_METRICS, Scored, breakdown, contains_evidence, score_one
from ingest.storage.store import StoredChunk
from ingest.transforms.embed import SentenceTransformerEmbedder

TOP_K = 5
SHOWN = ("evidence_cited", "cited_mrr", "citation_precision", "key_facts", "median_words", "answerable_declined",
         "declined", "off_topic_declined", "near_miss_declined", "latency_p50_ms", "latency_p95_ms")


class Embedding(BaseEmbedding):
    """Our sentence-transformers model as a LlamaIndex embedding, so both sides embed alike."""

    _inner: SentenceTransformerEmbedder = PrivateAttr()

    def __init__(self, inner: SentenceTransformerEmbedder, **kw: Any) -> None:
        super().__init__(model_name=inner.name, embed_batch_size=64, **kw)
        self._inner = inner

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return [list(map(float, v)) for v in self._inner.embed(texts)]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._get_text_embedding(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


def quickstart(settings: Settings, embedder: SentenceTransformerEmbedder) -> VectorStoreIndex:
    """The LlamaIndex starter tutorial's index, with our embedding model and no LLM."""
    LlamaSettings.embed_model = Embedding(embedder)
    LlamaSettings.llm = None  # type: ignore[assignment]  # retrieval only: no OpenAI key is looked for
    documents = SimpleDirectoryReader(str(settings.corpus_dir), exclude=["manifest.toml", "README.md"],
                                      filename_as_id=True).load_data()
    return VectorStoreIndex.from_documents(documents)


def as_answer(nodes: list[NodeWithScore]) -> tuple[Answer, list[Candidate]]:
    """Answer = the retrieved text; every retrieved node is a citation (the quickstart shows its sources)."""
    citations, ranked = [], []
    for n, hit in enumerate(nodes, 1):
        text = hit.node.get_content()
        name = str(hit.node.metadata.get("file_name", ""))
        citations.append(Citation(n=n, doc_id=name, title=name, locator="", quote=text, text=text,
                                  score=float(hit.score or 0.0), chunk_id=hit.node.node_id))
        ranked.append(Candidate(StoredChunk(hit.node.node_id, text, {"doc_id": name}), score=float(hit.score or 0.0)))
    answer = "\n\n".join(c.text for c in citations)
    return Answer(answer=answer, abstained=False, citations=citations, mode="baseline"), ranked


def run_baseline(index: VectorStoreIndex, gold: list[GoldQuestion]) -> list[Scored]:
    retriever = index.as_retriever(similarity_top_k=TOP_K)
    rows = []
    for g in gold:
        started = time.perf_counter()
        # the quickstart has no conversation state: a follow-up is asked with the turns before it, as ours is
        query = " ".join([t.content for t in g.history if t.role == "user"][-1:] + [g.question])
        answer, ranked = as_answer(retriever.retrieve(query))
        rows.append(score_one(g, answer, ranked, TOP_K, (time.perf_counter() - started) * 1000))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("dev", "test"), default="test")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from assistant.pipeline import Assistant

    settings = Settings()
    embedder = SentenceTransformerEmbedder(settings.embedding_model, settings.device, settings.embed_batch_size)
    assistant = Assistant.from_settings(settings, embedder)
    [(name, gold)] = named_sets(split=args.split, tuned=False).items()
    started = time.perf_counter()
    index = quickstart(settings, embedder)
    build_s = time.perf_counter() - started
    nodes = len(index.docstore.docs)
    for g in gold[:5]:  # warm both sides alike
        assistant.answer(g.question)
        index.as_retriever(similarity_top_k=TOP_K).retrieve(g.question)
    counts = {g.id: sum(contains_evidence(c.text, g) for c in assistant.chunks) for g in gold if g.evidence}
    ours = run_eval(assistant, gold, TOP_K, name=name).all
    base = breakdown(run_baseline(index, gold), TOP_K, counts)["all"]
    results = {"set": name, "n": ours.n, "ours": ours.metrics, "llamaindex_quickstart": base.metrics,
               "quickstart_nodes": nodes, "quickstart_build_s": round(build_s, 2)}
    if args.json:
        print(json.dumps(results, indent=1))
        return
    print(f"{name}, {ours.n} questions; the quickstart: {nodes} nodes (default SentenceSplitter), built in {build_s:.1f} s\n")
    print("| metric | ours | LlamaIndex quickstart |\n|---|---|---|")
    for key in SHOWN:
        if key in USER_METRICS and (key in ours.metrics or key in base.metrics):
            print(f"| {key} | {_fmt(ours.metrics.get(key))} | {_fmt(base.metrics.get(key))} |")


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3f}"


if __name__ == "__main__":
    main()
