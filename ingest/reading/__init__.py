"""Readers: where documents come from and how a file becomes clean, located text (LlamaIndex ``BaseReader``s)."""
