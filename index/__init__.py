"""Indexing: load articles, clean them, chunk them and store them in Chroma."""

import os

# OpenMP threads that spin while waiting made every small model call in the main thread ~20x
# slower on this 2-core machine (one query embedding: 480 ms instead of 25 ms). Passive waiting
# must be chosen before torch starts its thread pool, so it is set when the package is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
