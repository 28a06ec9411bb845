"""Store stage, keyword side: a BM25 index (bm25s, English stemming) over the same chunks.

It is written beside the vectors with the chunk records it was built from and the index's fingerprint
(their ids and documents' fingerprints, ``store.index_fingerprint``); ingest rebuilds it whenever that
differs from Chroma's, so the two stay consistent, metadata included.
Beside it: the n-gram TF-IDF (``ingest/storage/ngrams.py``) and every passage's analysed words (``ingest/storage/lexicon.py``).
The swap into place is a rename, so a killed ingest leaves either the old index or none.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from ingest.errors import IndexNotReady
from ingest.storage.lexicon import Lexicon
from ingest.storage.lexicon import passage_context as passage_context  # re-exported: BM25 reads it too
from ingest.storage.ngrams import NgramIndex
from ingest.storage.store import StoredChunk, index_fingerprint


def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def keyword_text(chunk: StoredChunk) -> str:
    """What BM25 sees: the locator (``Step #5: Formalise Partnerships``) and the passage."""
    return f"{passage_context(chunk)}\n{chunk.text}"


VERSION = 5  # 2: one-character tokens kept ('Step 4', '(a)'); 3: the n-gram views' TF-IDF stored beside
# (ingest/storage/ngrams.py); 4: every passage's terms, words and countries stored beside (ingest/storage/lexicon.py);
# 5: the sentences' n-grams also stored by row
_TOKENS = r"(?u)\b\w+\b"  # bm25s's default drops one-character tokens, so 'step 4' lost its number


def _shared_strings(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """One copy of each metadata key and short value (a title, a path, a date) for all the chunks that repeat
    it: at 100k passages the records took 565 MB with a copy per chunk, 235 MB shared (the same load time)."""
    return {sys.intern(k): sys.intern(v) if isinstance(v, str) and len(v) < 300 else v for k, v in pairs}


def tokenize(texts: list[str], stemmer: Any) -> Any:
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False, token_pattern=_TOKENS)


def build(path: Path, chunks: list[StoredChunk]) -> None:
    import bm25s

    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if chunks:
        retriever = bm25s.BM25()
        retriever.index(tokenize([keyword_text(c) for c in chunks], _stemmer()), show_progress=False)
        retriever.save(str(tmp / "bm25"))
        grams = NgramIndex.fit(chunks)
        if grams is not None:
            grams.save(tmp / "ngrams")
    Lexicon.fit(chunks).save(tmp / "lexicon")
    with (tmp / "chunks.jsonl").open("w", encoding="utf-8") as fh:
        for chunk in chunks:
            fh.write(json.dumps(asdict(chunk), ensure_ascii=False) + "\n")
    meta = {"fingerprint": index_fingerprint(chunks), "count": len(chunks), "version": VERSION}
    (tmp / "meta.json").write_text(json.dumps(meta))
    old = path.with_name(path.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if path.exists():
        path.rename(old)
    tmp.rename(path)
    shutil.rmtree(old, ignore_errors=True)


def fingerprint(path: Path) -> str | None:
    try:
        meta = json.loads((path / "meta.json").read_text())
        current = meta.get("version") == VERSION and Lexicon.fresh(path / "lexicon")  # else analysed by other code
        return str(meta["fingerprint"]) if current else None
    except (OSError, ValueError, KeyError):
        return None


class KeywordIndex:
    """Loaded BM25 index and the chunk records, in index order.

    Example::

        index = KeywordIndex.load(settings.keyword_path)
        hits = index.search("membership fees", k=10)   # [(chunk_id, score), ...]
    """

    def __init__(self, chunks: list[StoredChunk], retriever: Any, fp: str, ngrams: NgramIndex | None = None,
                 lexicon: Lexicon | None = None) -> None:
        """``ngrams``: the n-gram TF-IDF ingest fitted over these chunks (None: the n-gram views fit their own);
        ``lexicon``: their analysed words (None: analysed here)."""
        self.chunks = chunks
        self.ngrams = ngrams
        self.lexicon = lexicon if lexicon is not None else Lexicon.fit(chunks)
        self.by_id = {c.id: c for c in chunks}
        self.retriever = retriever
        self.fingerprint = fp
        self.stemmer = _stemmer()

    @classmethod
    def load(cls, path: Path) -> KeywordIndex:
        import bm25s

        fp = fingerprint(path)
        if fp is None:
            raise IndexNotReady(f"no keyword index at {path}; run `coalition ingest`")
        decoder = json.JSONDecoder(object_pairs_hook=_shared_strings)
        with (path / "chunks.jsonl").open(encoding="utf-8") as fh:
            chunks = [StoredChunk(**decoder.decode(line)) for line in fh]
        retriever = bm25s.BM25.load(str(path / "bm25")) if chunks else None
        lexicon = Lexicon.load(path / "lexicon", [c.id for c in chunks])
        if lexicon is None:
            raise IndexNotReady(f"the keyword index at {path} is incomplete; run `coalition ingest`")
        return cls(chunks, retriever, fp, NgramIndex.load(path / "ngrams"), lexicon)

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Top ``k`` chunk ids by BM25; ``allowed`` is an optional boolean mask over chunks (filters)."""
        scores = self.scores(query)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        top = np.argsort(-scores)[:k]
        return [(self.chunks[i].id, float(scores[i])) for i in top if scores[i] > 0]

    def scores(self, query: str) -> np.ndarray:
        """Every chunk's BM25 score for ``query``, in index order (zeros when no query term is indexed)."""
        empty = np.zeros(len(self.chunks), dtype=np.float32)
        if self.retriever is None or not query.strip():
            return empty
        tokens = tokenize([query], self.stemmer)
        if not tokens.vocab or not any(tokens.ids):
            return empty
        return np.asarray(self.retriever.get_scores(self._query_tokens(tokens)), dtype=np.float32)

    @staticmethod
    def _query_tokens(tokens: Any) -> list[str]:
        inverse = {v: t for t, v in tokens.vocab.items()}
        return [inverse[i] for i in tokens.ids[0]]
