"""Marquee model service: embeddings, a language model and request enrichment over HTTP."""

import os

# Process-wide settings that must be in place before torch, transformers or huggingface_hub are
# imported, which any submodule may do; the package's __init__ runs before all of them.
# - The Hub client reads these once, at import: a model that is not on disk then fails at once
#   instead of hanging on the network. HF_HUB_OFFLINE=0 lets the service download Hub models.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# - OpenMP threads (torch's and llama.cpp's) wait at barriers by spinning for a while, then
#   sleeping. Spinning long (libgomp's default, 300k iterations) steals the cores the event loop
#   needs: 8 embedding queries on 2 busy cores took 564 ms, against 36 ms without spinning.
#   Never spinning (OMP_WAIT_POLICY=PASSIVE) costs llama.cpp a third of its decoding speed
#   (a barrier per layer per token): 20 instead of 29 tokens/s for Qwen 1.5B on 2 cores.
#   A short spin keeps both: 29 tokens/s, and idle workers sleep within microseconds.
os.environ.setdefault("GOMP_SPINCOUNT", "1000")
