"""aipaint's benchmarks: `python -m bench` (or `scripts/bench`); results in docs/benchmarks.md.

A scenario is a function in a module of `bench/scenarios/`, registered with
`@scenario(name, title, note=...)` from `bench.harness`: it measures once and returns a list of
`Figure`s (name, value, unit, optional `Target`). The runner repeats it (3 times at least), and
the report shows each figure's median and min–max spread. A new module is listed in
`bench.scenarios.MODULES`; `tests/bench/test_smoke.py` then runs it in its `--smoke` form.
"""
