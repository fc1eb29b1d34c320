"""`python -m bench [--smoke] [--only NAME ...] [--output FILE]`: run the benchmark scenarios.

A full run repeats every scenario, writes bench/results/<date>-<commit>.json, regenerates
docs/benchmarks.md and exits 1 if a target is missed. `--smoke` runs each scenario once at tiny
sizes, asserts no target, writes its JSON to a temp file (or `--output`) and leaves the docs alone:
it only proves the benchmark code still works. `--only` runs some scenarios and, since the docs
describe whole runs, does not rewrite docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import bench.scenarios  # noqa: F401  (registers every scenario)
from bench.harness import SCENARIOS, Scenario, ScenarioResult, fmt, run_scenario
from bench.report import (
    DOCS_FILE,
    RESULTS_DIR,
    ROOT,
    Report,
    git_commit,
    machine,
    write_docs,
    write_json,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="once, tiny sizes, no targets")
    parser.add_argument("--only", nargs="+", choices=list(SCENARIOS), metavar="NAME")
    parser.add_argument("--output", type=Path, help="where to write the JSON result")
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so that a server a scenario started is always stopped.
    signal.signal(signal.SIGTERM, _exit_on_signal)

    started = time.perf_counter()
    date = datetime.now(UTC).replace(microsecond=0)
    commit, host = git_commit(), machine()
    names = args.only or list(SCENARIOS)
    results: list[ScenarioResult] = []
    for name in names:
        item = SCENARIOS[name]
        print(f"{name}: {1 if args.smoke else item.repeats} repeat(s)…", flush=True)
        result = _run(item, args.smoke)
        _print_result(result)
        results.append(result)
    report = Report(
        date=date.isoformat().replace("+00:00", "Z"),
        commit=commit,
        machine=host,
        smoke=args.smoke,
        seconds=time.perf_counter() - started,
        scenarios=results,
    )

    output = args.output or _default_output(args.smoke, date, commit)
    write_json(report, output)
    print(f"results: {output}")
    if args.smoke:
        return 0
    if args.only:
        print(f"{DOCS_FILE.relative_to(ROOT)} left as is (--only)")
    else:
        write_docs(report)
        print(f"wrote {DOCS_FILE.relative_to(ROOT)}")
    for missed in report.missed:
        print(f"target missed: {missed}")
    print(f"done in {report.seconds:.0f} s")
    return 1 if report.missed else 0


def _default_output(smoke: bool, date: datetime, commit: str) -> Path:
    if smoke:
        handle, name = tempfile.mkstemp(prefix="aipaint-bench-smoke-", suffix=".json")
        os.close(handle)
        return Path(name)
    return RESULTS_DIR / f"{date:%Y%m%d-%H%M%S}-{commit}.json"


def _run(item: Scenario, smoke: bool) -> ScenarioResult:
    """The scenario's figures. A smoke run stops at the first failure; a full run records it
    and goes on, so that one broken scenario does not cost the others' figures."""
    started = time.perf_counter()
    try:
        return run_scenario(item, smoke=smoke)
    except Exception as error:
        if smoke:
            raise
        failure = f"{type(error).__name__}: {error}"
        print(f"  failed: {failure}", flush=True)
        seconds = time.perf_counter() - started
        return ScenarioResult(item.name, item.title, item.note, item.repeats, seconds, [], failure)


def _print_result(result: ScenarioResult) -> None:
    for f in result.figures:
        met = "" if f.met is None else "  met" if f.met else "  MISSED"
        target = f"  (target {f.target})" if f.target else ""
        spread = f"  [{fmt(f.low)}–{fmt(f.high)}]" if len(f.samples) > 1 else ""
        print(f"  {f.name:<40} {fmt(f.value):>10} {f.unit:<8}{spread}{target}{met}")
    print(f"  ({result.seconds:.1f} s)", flush=True)


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
