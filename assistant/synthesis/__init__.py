"""Response synthesis: the extractive composer, citations, the optional generative mode."""
