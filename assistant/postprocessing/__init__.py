"""Node postprocessors: the fitted reranker, the answerability model and the optional LLM judge."""
