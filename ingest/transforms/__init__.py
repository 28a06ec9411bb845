"""Transformations: what each node gains before it is stored (screening, themes, countries, practices, embeddings)."""
