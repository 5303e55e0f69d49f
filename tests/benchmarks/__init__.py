"""Benchmarks (``make bench``): figures side by side with a naive baseline; not part of ``make test``."""
