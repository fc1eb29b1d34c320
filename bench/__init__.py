"""aipaint's benchmarks: `python -m bench` (or `scripts/bench`)."""
