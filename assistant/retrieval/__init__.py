"""Retrievers: the views that score passages and their fusion by score, with the question's language,
spelling and cross-lingual terms."""
