"""Text generators (llama.cpp, transformers, an OpenAI-compatible upstream) behind one interface."""
