"""Model engines: blocking model wrappers that know nothing of HTTP."""
