"""Marquee model service: embeddings, a language model and request enrichment over HTTP."""

import os

# Process-wide settings that must be in place before torch, transformers or huggingface_hub are
# imported, which any submodule may do; the package's __init__ runs before all of them.
# - The Hub client reads these once, at import: a model that is not on disk then fails at once
#   instead of hanging on the network. HF_HUB_OFFLINE=0 lets the service download Hub models.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# - Spinning OpenMP workers (torch's default) steal the cores the event loop needs and collapse
#   when a core is contended: measured on 2 busy cores, 8 queries took 564 ms with spinning
#   workers and 36 ms with passive ones (same when idle).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
