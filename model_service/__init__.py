"""Marquee model service: embeddings (and later the LLM) behind an OpenAI-compatible HTTP API."""
