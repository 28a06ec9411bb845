"""Ingestion pipeline, its folders in the order it runs: reading → parsing → transforms → storage."""
