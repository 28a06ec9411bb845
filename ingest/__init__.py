"""Ingestion pipeline: load → chunk → enrich → embed → store."""
