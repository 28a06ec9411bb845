"""Answering pipeline, its folders in the order it runs: retrieval → postprocessing → synthesis."""
