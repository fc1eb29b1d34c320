"""An HTTP load generator in its own process: N keep-alive connections sending requests in turn.

`python -m bench.loadgen URL [URL ...] --mode MODE --seconds S --connections N [--server-pid PID
...]` prints one JSON object. With several URLs (processes serving the same data), the
connections are spread over them in turn, and each sends every request to its own target. The
modes:

- `full` / `etag`: aipaint's model reads. Before the timed phase it reads every model once (the
  server builds its documents, the client learns their ETags). In `etag` mode each request sends
  the model's ETag in `If-None-Match` and must get `304`; in `full` mode `200` with a body.
- `get`: `GET` every `--path` (or every line of `--paths-file`, `-` for stdin) in turn.
- `post`: `POST` the JSON `--body` to every `--path` in turn.

In `get` and `post` modes an answer counts only with the `--expect` status (200 unless told)
and, with `--expect-key KEY`, a JSON object whose KEY is set; before the timed phase every
request is sent once, at least once per connection, untimed (a failure there stops the run).
Anything else, a transport error included, counts as an error. No request starts after the
phase's deadline; `ok_in_phase` counts the good answers that arrived before it, so that a slow
tail does not stretch the time a throughput is computed over. `--token` sends
`Authorization: Bearer TOKEN`; `--header 'Name: value'` any header. Only http://127.0.0.1:PORT
is accepted as a target, and every request is checked to stay there.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Coroutine, Mapping, Sequence
from contextlib import AbstractContextManager, AsyncExitStack, ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

import httpx

from bench.server import HOST, cpu_seconds

Mode = Literal["full", "etag", "get", "post"]
MODES: tuple[Mode, ...] = get_args(Mode)
MAX_REQUESTS = 5_000_000  # a bound on the timed loop besides its deadline
MAX_PATHS = 100_000
# Written on stderr as the timed phase starts and ends, for `generate_load(during=...)`.
PHASE_START, PHASE_END = "loadgen: timed phase starts\n", "loadgen: timed phase ends\n"
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class LoadResult:
    """What one run measured. No request starts after the phase's deadline, but those under
    way then run to their end: `seconds` (and every CPU time) lasts until the last one ends."""

    requests: int
    errors: int
    seconds: float
    client_cpu_seconds: float  # the load generator's CPU time in the timed phase
    latencies_ms: list[float]
    # The CPU time over the timed phase of each process given with --server-pid, in order.
    pid_cpu_seconds: list[float] = field(default_factory=list)
    phase_seconds: float = 0.0  # the phase as asked for (--seconds)
    ok_in_phase: int = 0  # requests answered as expected before its deadline

    @property
    def rate(self) -> float:
        """Requests per second, errors included, over the whole run."""
        return self.requests / self.seconds

    @property
    def ok_rate(self) -> float:
        """Requests answered as expected within the phase, per second of it: a slow tail after
        the deadline does not stretch the time this counts over."""
        return self.ok_in_phase / self.phase_seconds

    @property
    def server_cpu_seconds(self) -> float:
        """The first given process's CPU time over the timed phase (0 when none was given)."""
        return self.pid_cpu_seconds[0] if self.pid_cpu_seconds else 0.0


@dataclass(frozen=True)
class Plan:
    """What the load generator sends, and what counts as a good answer."""

    urls: list[str]  # connection i talks to urls[i % len(urls)]
    mode: Mode
    headers: dict[str, str]
    paths: list[str]  # get / post: sent in turn; full / etag: found via /v1/models
    body: Any = None  # post: the JSON body
    expect: int = 200
    expect_key: str | None = None


def check_target(url: str) -> str:
    """`url` if it is http://127.0.0.1:PORT (nothing else), else ValueError."""
    problem = ValueError(f"the load generator only targets http://{HOST}:PORT, not {url!r}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise problem from None
    if not url.startswith(f"http://{HOST}:") or parts.scheme != "http":
        raise problem
    if parts.hostname != HOST or port is None or parts.username or parts.password:
        raise problem
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise problem
    return url.rstrip("/")


def check_path(path: str) -> str:
    """A path on the target (`/...`); anything that could name another host is refused."""
    if not path.startswith("/") or path.startswith("//") or "://" in path or "\\" in path:
        raise ValueError(f"not a path on the target: {path!r}")
    return path


def generate_load(
    url: str | Sequence[str],
    mode: Mode,
    *,
    seconds: float,
    connections: int,
    token: str | None = None,
    headers: Mapping[str, str] | None = None,
    paths: Sequence[str] = (),
    body: Any = None,
    expect: int = 200,
    expect_key: str | None = None,
    pids: Sequence[int] = (),
    during: AbstractContextManager[object] | None = None,
) -> LoadResult:
    """Run the load generator as a child process against `url` (or each of several, the
    connections spread over them) and return what it measured.

    `pids`: processes (servers) whose CPU time over the timed phase the result reports.
    `during`: entered when the timed phase starts and exited when it ends (the load generator
    says when on its stderr), e.g. a `bench.cpu.CpuMeter` for processes that come and go.
    """
    urls = [url] if isinstance(url, str) else list(url)
    for target in urls:
        check_target(target)
    for path in paths:
        check_path(path)
    command = [sys.executable, "-m", "bench.loadgen", *urls, "--mode", mode]
    command += ["--seconds", str(seconds), "--connections", str(connections)]
    command += ["--expect", str(expect)]
    if token is not None:
        command += ["--token", token]
    for name, value in (headers or {}).items():
        command += ["--header", f"{name}: {value}"]
    if body is not None:
        command += ["--body", json.dumps(body)]
    if expect_key is not None:
        command += ["--expect-key", expect_key]
    for pid in pids:
        command += ["--server-pid", str(pid)]
    if paths:
        command += ["--paths-file", "-"]  # on stdin: a long list of ids stays off the command line
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # However it hangs, the run ends: the phase, then two minutes for set-up and the answer.
    watchdog = threading.Timer(seconds + 120, process.kill)
    watchdog.start()
    try:
        assert process.stdin is not None
        assert process.stderr is not None
        with contextlib.suppress(BrokenPipeError):  # it stopped early: its stderr says why
            process.stdin.write("\n".join(paths))
            process.stdin.close()
        said: list[str] = []
        with ExitStack() as phase:
            for line in process.stderr:  # up to the phase's end (or the process's)
                if line == PHASE_START and during is not None:
                    phase.enter_context(during)
                elif line == PHASE_END:
                    break
                else:
                    said.append(line)
        # After the phase it writes only its answer (stdout), or why it failed (stderr).
        assert process.stdout is not None
        stdout = process.stdout.read()
        stderr = process.stderr.read()
        process.wait()
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
    if process.returncode != 0:
        message = "".join(said) + stderr
        raise RuntimeError(f"load generator failed ({process.returncode}): {message[-2000:]}")
    return LoadResult(**json.loads(stdout))


def _clients(plan: Plan, connections: int) -> list[httpx.AsyncClient]:
    # One client of one connection per worker: httpcore's pool scans all of its connections on
    # every request, so a single pool of 32 costs the load generator much more CPU.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    tls = ssl.create_default_context()  # unused on http://, but each client would load its own
    return [
        httpx.AsyncClient(
            base_url=plan.urls[index % len(plan.urls)],
            limits=limits,
            timeout=10.0,
            verify=tls,
            headers=plan.headers,
        )
        for index in range(connections)
    ]


async def _model_requests(
    clients: list[httpx.AsyncClient], mode: Mode, targets: int
) -> tuple[list[list[httpx.Request]], int]:
    """full / etag: every model's request per target, after one untimed read of each; the
    status expected."""
    connections = len(clients)
    listing = await clients[0].get("/v1/models")
    listing.raise_for_status()
    paths = [f"/v1/models/{model['id']}" for model in listing.json()["models"]]
    etags: dict[str, str] = {}

    async def warm(client: httpx.AsyncClient, offset: int) -> None:
        for path in paths[offset::connections]:
            response = await client.get(path)
            response.raise_for_status()
            etags[path] = response.headers["etag"]

    await asyncio.gather(*(warm(client, offset) for offset, client in enumerate(clients)))
    requests = [
        [
            # clients[t] talks to target t (connections are spread over the targets in turn)
            clients[target].build_request(
                "GET", path, headers={"If-None-Match": etags[path]} if mode == "etag" else None
            )
            for path in paths
        ]
        for target in range(targets)
    ]
    return requests, 304 if mode == "etag" else 200


def _good(plan: Plan, response: httpx.Response) -> bool:
    """Whether an answer of a get / post run counts (full / etag check theirs in the loop)."""
    if response.status_code != plan.expect:
        return False
    if plan.expect_key is None:
        return True
    try:
        answer = response.json()
    except ValueError:
        return False
    return isinstance(answer, dict) and bool(answer.get(plan.expect_key))


async def _plan_requests(clients: list[httpx.AsyncClient], plan: Plan) -> list[list[httpx.Request]]:
    """get / post: the requests per target, each sent once untimed (and at least once per
    connection)."""
    method = "POST" if plan.mode == "post" else "GET"
    requests = [
        [
            clients[target].build_request(
                method, path, json=plan.body if method == "POST" else None
            )
            for path in plan.paths
        ]
        for target in range(len(plan.urls))
    ]
    connections = len(clients)

    async def warm(client: httpx.AsyncClient, offset: int) -> None:
        mine = requests[offset % len(requests)]
        indexes = range(offset, max(len(mine), connections), connections)
        for index in indexes:
            request = mine[index % len(mine)]
            response = await client.send(request)
            if not _good(plan, response):
                raise RuntimeError(
                    f"{request.method} {request.url.path}: {response.status_code} "
                    f"{response.text[:500]!r} (expected {plan.expect}"
                    + (f" with {plan.expect_key!r})" if plan.expect_key else ")")
                )

    await asyncio.gather(*(warm(client, offset) for offset, client in enumerate(clients)))
    return requests


async def _load(plan: Plan, seconds: float, connections: int, pids: Sequence[int]) -> LoadResult:
    if connections < len(plan.urls):
        raise ValueError("fewer connections than targets")
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(client) for client in _clients(plan, connections)
        ]
        if plan.mode in ("full", "etag"):
            requests, expected = await _model_requests(clients, plan.mode, len(plan.urls))
            body_needed = plan.mode == "full"

            def good(response: httpx.Response) -> bool:
                return response.status_code == expected and (
                    not body_needed or len(response.content) > 0
                )
        else:
            requests = await _plan_requests(clients, plan)

            def good(response: httpx.Response) -> bool:
                return _good(plan, response)

        for target, (url, mine) in enumerate(zip(plan.urls, requests, strict=True)):
            port = urlsplit(url).port
            for request in mine:  # loopback only, whatever a path or a listing said
                if request.url.host != HOST or request.url.port != port:
                    raise ValueError(f"a request of target {target} leaves it: {request.url}")
        latencies: list[int] = []
        errors = ok_in_phase = 0

        async def worker(client: httpx.AsyncClient, offset: int, deadline: float) -> None:
            nonlocal errors, ok_in_phase
            clock = time.perf_counter_ns
            deadline_ns = int(deadline * 1e9)  # perf_counter and perf_counter_ns share a clock
            mine = requests[offset % len(requests)]
            index = offset
            while time.perf_counter() < deadline and len(latencies) < MAX_REQUESTS:
                request = mine[index % len(mine)]
                index += connections
                start = clock()
                try:
                    ok = good(await client.send(request))
                except httpx.HTTPError:
                    ok = False
                end = clock()
                latencies.append(end - start)
                errors += not ok
                ok_in_phase += ok and end <= deadline_ns

        print(PHASE_START, end="", file=sys.stderr, flush=True)
        pid_cpu = [cpu_seconds(pid) for pid in pids]
        client_cpu, started = time.process_time(), time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *(worker(client, offset, deadline) for offset, client in enumerate(clients))
        )
        elapsed = time.perf_counter() - started
        client_cpu = time.process_time() - client_cpu
        pid_cpu = [cpu_seconds(pid) - before for pid, before in zip(pids, pid_cpu, strict=True)]
        print(PHASE_END, end="", file=sys.stderr, flush=True)
    latencies_ms = [ns / 1e6 for ns in latencies]
    return LoadResult(
        len(latencies), errors, elapsed, client_cpu, latencies_ms, pid_cpu, seconds, ok_in_phase
    )


def _run(main: Coroutine[Any, Any, LoadResult]) -> LoadResult:
    try:
        import uvloop
    except ImportError:  # uvloop comes with uvicorn[standard], but not on every platform
        return asyncio.run(main)
    return uvloop.run(main)


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"not a header (Name: value): {text!r}")
    return name.strip(), value.strip()


def _paths(args: argparse.Namespace) -> list[str]:
    paths: list[str] = list(args.path or [])
    if args.paths_file is not None:
        text = sys.stdin.read() if args.paths_file == "-" else Path(args.paths_file).read_text()
        paths += [line.strip() for line in text.splitlines() if line.strip()]
    if len(paths) > MAX_PATHS:
        raise ValueError(f"more than {MAX_PATHS} paths")
    return [check_path(path) for path in paths]


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.loadgen",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("urls", nargs="+", metavar="url")
    parser.add_argument("--mode", choices=MODES, default="full")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--server-pid", type=int, action="append", default=[], dest="pids")
    parser.add_argument("--token", help="an aipaint API token (Authorization: Bearer …)")
    parser.add_argument("--header", type=_header, action="append", default=[])
    parser.add_argument("--path", action="append", help="get / post: a path, repeatable")
    parser.add_argument("--paths-file", help="get / post: paths, one a line; - for stdin")
    parser.add_argument("--body", type=json.loads, help="post: the JSON body")
    parser.add_argument("--expect", type=int, default=200, help="get / post: the status")
    parser.add_argument("--expect-key", help="get / post: a key the JSON answer must set")
    args = parser.parse_args()
    try:
        urls = [check_target(url) for url in args.urls]
        paths = _paths(args)
    except ValueError as error:
        parser.error(str(error))
    if not 0 < args.seconds <= 600 or not 0 < args.connections <= 1000:
        parser.error("--seconds must be in (0, 600] and --connections in (0, 1000]")
    if args.connections < len(urls):
        parser.error("--connections must be at least the number of URLs")
    if args.mode in ("get", "post") and not paths:
        parser.error(f"--mode {args.mode} needs --path or --paths-file")
    if args.mode in ("full", "etag") and args.token is None:
        parser.error(f"--mode {args.mode} needs --token")
    headers = dict(args.header)
    if args.token is not None:
        headers["Authorization"] = f"Bearer {args.token}"
    plan = Plan(urls, args.mode, headers, paths, args.body, args.expect, args.expect_key)
    result = _run(_load(plan, args.seconds, args.connections, args.pids))
    json.dump(asdict(result), sys.stdout)


if __name__ == "__main__":
    main()
