"""Node parser: clean text into passages with paragraph locators (a LlamaIndex ``NodeParser``)."""
