"""Storage: the vector store, the docstore and the derived indexes (BM25, n-grams, sentences, terms, lexicon)."""
