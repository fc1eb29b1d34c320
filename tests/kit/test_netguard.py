"""The outbound-URL guard: address rules, URL parsing tricks, trust, and redirects.

Only loopback ever sees traffic: names resolve through a fake resolver, public addresses are
checked with follow_redirects=False, and the HTTP client used for probing refuses (fails the
test) on any request to a non-loopback address.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from aipaint.kit.background_server import BackgroundServer, free_port
from aipaint.kit.netguard import UnsafeUrl, UrlGuard, is_public_address, system_resolver

PUBLIC_V4 = "93.184.216.34"
PUBLIC_V6 = "2606:2800:220:1:248:1893:25c8:1946"

FAKE_DNS: dict[str, list[str]] = {
    "localhost": ["127.0.0.1"],
    "cdn.example.test": [PUBLIC_V4],
    "v6.example.test": [PUBLIC_V6],
    "mixed.example.test": [PUBLIC_V4, "10.1.2.3"],
    "internal.example.test": ["fd00::5"],
    "metadata.example.test": ["169.254.169.254"],
    "empty.example.test": [],
    "xn--bcher-kva.example.test": [PUBLIC_V4],  # bücher.example.test
}


@dataclass
class FakeResolver:
    """Answers from FAKE_DNS only; never touches real DNS."""

    asked: list[str] = field(default_factory=list)

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host not in FAKE_DNS:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return FAKE_DNS[host]


class LoopbackOnly(httpx.AsyncBaseTransport):
    """A real transport that fails the test on any request to a non-loopback address."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests: list[tuple[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, str(request.url)))
        host = request.url.host
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False  # a name: the probe must only ever reach checked addresses
        if not loopback:
            raise AssertionError(f"the guard sent traffic to {request.url}")
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def no_traffic(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"the guard sent traffic to {request.url}")


@pytest.fixture
async def loopback_client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=LoopbackOnly(), trust_env=False) as http:
        yield http


@pytest.fixture
async def silent_client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(no_traffic)) as http:
        yield http


# --------------------------------------------------------------------------------------------
# is_public_address
# --------------------------------------------------------------------------------------------

NOT_PUBLIC = [
    "127.0.0.1",
    "127.255.255.254",
    "10.0.0.5",
    "172.16.3.4",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "169.254.0.1",
    "100.64.0.1",  # CGNAT
    "100.127.255.254",
    "0.0.0.0",
    "0.1.2.3",
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "192.0.2.10",  # documentation
    "198.51.100.7",
    "203.0.113.9",
    "198.18.0.1",  # benchmarking
    "192.0.0.8",
    "::1",
    "::",
    "fd00::1",  # ULA
    "fc00::1",
    "fe80::1",  # link-local
    "fe80::1%eth0",
    "fec0::1",  # site-local, deprecated
    "ff02::1",  # multicast
    "2001:db8::1",  # documentation
    "3fff::1",
    "100::1",  # discard
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::127.0.0.1",  # IPv4-compatible, deprecated
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b:1::1",  # local-use NAT64
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo, client 10.0.0.1
    "2001:0:a00:1:8000:63bf:3fff:fdd2",  # Teredo, server 10.0.0.1
    "2001:2::1",  # benchmarking, in the IETF block
    "not an address",
    "",
    "010.0.0.1",  # ambiguous leading zero: ipaddress refuses it, and so do we
    "127.0.0.1 ",
]
PUBLIC = [
    PUBLIC_V4,
    "8.8.8.8",
    "1.1.1.1",
    "172.32.0.1",  # just outside 172.16/12
    "100.128.0.1",  # just outside 100.64/10
    "192.169.0.1",
    PUBLIC_V6,
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8
    "2002:808:808::1",  # 6to4 of 8.8.8.8
    "2001:0:4136:e378:8000:63bf:f7f7:f7f7",  # Teredo, server and client public
]


@pytest.mark.parametrize("ip", NOT_PUBLIC)
def test_not_public(ip: str) -> None:
    assert is_public_address(ip) is False


@pytest.mark.parametrize("ip", PUBLIC)
def test_public(ip: str) -> None:
    assert is_public_address(ip) is True


# --------------------------------------------------------------------------------------------
# check(): refusals before any traffic
# --------------------------------------------------------------------------------------------

REFUSED: list[tuple[str, str]] = [
    ("http://127.0.0.1/", "private_address"),
    ("http://localhost/", "private_address"),
    ("http://localhost.:8080/", "private_address"),
    ("http://LOCALHOST/", "private_address"),
    ("http://10.0.0.5/", "private_address"),
    ("http://172.16.3.4/", "private_address"),
    ("http://192.168.1.1/", "private_address"),
    ("http://169.254.169.254/latest/meta-data/", "private_address"),
    ("http://metadata.example.test/", "private_address"),
    ("http://[::1]/", "private_address"),
    ("http://[::1]:8000/", "private_address"),
    ("http://[fd00::1]/", "private_address"),
    ("http://[fe80::1%25eth0]/", "private_address"),
    ("http://[::ffff:127.0.0.1]/", "private_address"),
    ("http://[::ffff:7f00:1]/", "private_address"),
    ("http://2130706433/", "private_address"),  # decimal 127.0.0.1
    ("http://0x7f.1/", "private_address"),
    ("http://0x7f000001/", "private_address"),
    ("http://017700000001/", "private_address"),  # octal
    ("http://0177.0.0.01/", "private_address"),
    ("http://127.1/", "private_address"),
    ("http://127.0.0.1./", "private_address"),
    ("http://0/", "private_address"),  # 0.0.0.0
    ("http://%31%32%37.0.0.1/", "private_address"),  # percent-encoded host
    ("http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/", "private_address"),  # full-width digits
    ("http://user:pass@127.0.0.1/", "private_address"),
    ("http://cdn.example.test@127.0.0.1/", "private_address"),
    ("http://mixed.example.test/", "private_address"),  # one private answer is enough
    ("http://internal.example.test/", "private_address"),
    ("https://100.64.0.1/", "private_address"),
    ("file:///etc/passwd", "scheme"),
    ("FILE:///etc/passwd", "scheme"),
    ("ftp://x/", "scheme"),
    ("gopher://127.0.0.1:6379/_INFO", "scheme"),
    ("data:text/plain,hello", "scheme"),
    ("javascript:alert(1)", "scheme"),
    ("//cdn.example.test/a.png", "scheme"),
    ("cdn.example.test/a.png", "scheme"),
    ("", "scheme"),
    ("http:///a.png", "no_host"),
    ("http://", "no_host"),
    ("https://:443/a.png", "no_host"),
    ("http:127.0.0.1/", "no_host"),  # browsers read 127.0.0.1 here: refusing is what matters
    ("http://./", "no_host"),
    ("http://127.0.0.1\\@cdn.example.test/", "malformed"),  # parsers disagree on the host
    ("http://cdn.example.test\\.127.0.0.1/", "malformed"),
    ("http://cdn.example.test /", "malformed"),
    ("http://cdn.exa\tmple.test/", "malformed"),
    (" http://127.0.0.1/", "malformed"),
    ("http://1.2.3.4.5/", "malformed"),
    ("http://256.0.0.1/", "malformed"),
    ("http://08.0.0.1/", "malformed"),  # 8 is no octal digit
    ("http://cdn.example.test:99999/", "malformed"),
    ("http://cdn.example.test:http/", "malformed"),
    ("http://[::1/", "malformed"),
    ("http://[127.0.0.1]/", "malformed"),
    ("http://cdn%2fexample.test/", "malformed"),
    ("http://nowhere.example.test/", "unresolvable"),
    ("http://empty.example.test/", "unresolvable"),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("url", "reason"), REFUSED)
async def test_refused(url: str, reason: str, silent_client: httpx.AsyncClient) -> None:
    guard = UrlGuard(resolver=FakeResolver(), http=silent_client)
    with pytest.raises(UnsafeUrl) as caught:
        await guard.check(url)  # follow_redirects=True: still no traffic, refused first
    assert caught.value.reason == reason
    assert caught.value.url == url
    assert reason in str(caught.value)


@pytest.mark.anyio
async def test_ip_literals_are_not_resolved(silent_client: httpx.AsyncClient) -> None:
    resolver = FakeResolver()
    guard = UrlGuard(resolver=resolver, http=silent_client)
    for url in ("http://127.0.0.1/", "http://2130706433/", "http://[::1]/"):
        with pytest.raises(UnsafeUrl):
            await guard.check(url)
    await guard.check(f"http://{PUBLIC_V4}/a.png", follow_redirects=False)
    await guard.check(f"https://[{PUBLIC_V6}]:8443/a.png", follow_redirects=False)
    assert resolver.asked == []


@pytest.mark.anyio
async def test_a_slow_resolver_is_unresolvable(silent_client: httpx.AsyncClient) -> None:
    async def hangs(host: str, port: int) -> list[str]:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    guard = UrlGuard(resolver=hangs, http=silent_client, timeout=0.05)
    with pytest.raises(UnsafeUrl) as caught:
        await guard.check("http://cdn.example.test/")
    assert caught.value.reason == "unresolvable"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.example.test/outputs/a.png?sign=abc&expires=1",
        "http://CDN.Example.TEST./a.png",
        "https://cdn.example.test:8443/a.png#frag",
        "https://v6.example.test/a.mp4",
        f"http://{PUBLIC_V4}/a.png",
        "http://1572395042/a.png",  # 93.184.216.34 in decimal
        "https://user@cdn.example.test/a.png",
        "https://xn--bcher-kva.example.test/",  # punycode is an ordinary name
    ],
)
async def test_public_accepted_without_traffic(url: str, silent_client: httpx.AsyncClient) -> None:
    guard = UrlGuard(resolver=FakeResolver(), http=silent_client)
    await guard.check(url, follow_redirects=False)


@pytest.mark.anyio
async def test_international_names_are_resolved_in_ascii(silent_client: httpx.AsyncClient) -> None:
    resolver = FakeResolver()
    guard = UrlGuard(resolver=resolver, http=silent_client)
    await guard.check("https://bücher.example.test/a.png", follow_redirects=False)
    assert resolver.asked == ["xn--bcher-kva.example.test"]


# --------------------------------------------------------------------------------------------
# Trust
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_trusted_host_and_port(silent_client: httpx.AsyncClient) -> None:
    guard = UrlGuard(
        resolver=FakeResolver(),
        http=silent_client,
        trusted=["127.0.0.1:8123", "LOCALHOST.", "[::1]:9000", "uploads.internal.test"],
    )
    for url in (
        "http://127.0.0.1:8123/files/a.png",
        "http://2130706433:8123/",  # the same address, spelled differently
        "http://localhost/",
        "http://localhost:5555/",  # a host entry without a port trusts every port
        "http://[::1]:9000/",
        "https://uploads.internal.test/x",  # trusted names are not even resolved
    ):
        await guard.check(url, follow_redirects=False)
    for url in ("http://127.0.0.1:8124/", "http://127.0.0.1/", "http://[::1]:9001/"):
        with pytest.raises(UnsafeUrl) as caught:
            await guard.check(url, follow_redirects=False)
        assert caught.value.reason == "private_address"


@pytest.mark.anyio
async def test_trust_does_not_skip_the_scheme_check(silent_client: httpx.AsyncClient) -> None:
    guard = UrlGuard(resolver=FakeResolver(), http=silent_client, trusted=["127.0.0.1"])
    with pytest.raises(UnsafeUrl) as caught:
        await guard.check("ftp://127.0.0.1/", follow_redirects=False)
    assert caught.value.reason == "scheme"


@pytest.mark.parametrize("entry", ["127.0.0.1:http", "[::1]:x", ""])
def test_bad_trusted_entries(entry: str) -> None:
    with pytest.raises(ValueError, match=r"invalid literal|empty"):
        UrlGuard(trusted=[entry])


def test_bad_settings() -> None:
    with pytest.raises(ValueError, match="max_redirects"):
        UrlGuard(max_redirects=-1)
    with pytest.raises(ValueError, match="timeout"):
        UrlGuard(timeout=0)


# --------------------------------------------------------------------------------------------
# Redirects, against a real server on loopback
# --------------------------------------------------------------------------------------------


@dataclass
class Redirector:
    server: BackgroundServer
    hits: list[tuple[str, str]]

    @property
    def trusted(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    def url(self, path: str) -> str:
        return f"{self.server.url}{path}"


def redirect(location: str) -> Response:
    # A raw header: RedirectResponse would re-quote the location.
    return Response(status_code=302, headers={"location": location})


def make_app(hits: list[tuple[str, str]]) -> Starlette:
    async def record(request: Request) -> None:
        hits.append((request.method, request.url.path))

    async def ok(request: Request) -> Response:
        await record(request)
        return PlainTextResponse("ok")

    async def to(request: Request) -> Response:
        await record(request)
        return redirect(request.query_params["url"])

    async def chain(request: Request) -> Response:
        await record(request)
        left = int(request.path_params["left"])
        return redirect(f"/chain/{left - 1}") if left else PlainTextResponse("end")

    async def loop(request: Request) -> Response:
        await record(request)
        return redirect("/loop")

    async def ping(request: Request) -> Response:
        await record(request)
        return redirect("/pong")

    async def pong(request: Request) -> Response:
        await record(request)
        return redirect("/ping#again")

    async def no_head(request: Request) -> Response:
        await record(request)
        if request.method == "HEAD":
            return PlainTextResponse("HEAD not allowed", status_code=405)
        return redirect(request.query_params["url"])

    async def slow(request: Request) -> Response:
        await record(request)
        await anyio.sleep(0.6)
        return redirect("http://10.0.0.1/too-late")

    async def see_other(request: Request) -> Response:
        await record(request)
        return Response(status_code=303, headers={"location": request.query_params["url"]})

    async def not_modified(request: Request) -> Response:
        await record(request)
        return Response(status_code=304, headers={"location": "http://10.0.0.1/"})

    methods = ["GET", "HEAD"]
    return Starlette(
        routes=[
            Route("/ok", ok, methods=methods),
            Route("/to", to, methods=methods),
            Route("/chain/{left:int}", chain, methods=methods),
            Route("/loop", loop, methods=methods),
            Route("/ping", ping, methods=methods),
            Route("/pong", pong, methods=methods),
            Route("/no-head", no_head, methods=methods),
            Route("/slow", slow, methods=methods),
            Route("/see-other", see_other, methods=methods),
            Route("/not-modified", not_modified, methods=methods),
        ]
    )


@pytest.fixture(scope="module")
def redirector_server() -> Iterator[tuple[BackgroundServer, list[tuple[str, str]]]]:
    hits: list[tuple[str, str]] = []
    with BackgroundServer(make_app(hits)) as server:
        yield server, hits


@pytest.fixture
def redirector(
    redirector_server: tuple[BackgroundServer, list[tuple[str, str]]],
) -> Redirector:
    server, hits = redirector_server
    hits.clear()
    return Redirector(server, hits)


@pytest.fixture
def guard(redirector: Redirector, loopback_client: httpx.AsyncClient) -> UrlGuard:
    return UrlGuard(resolver=FakeResolver(), trusted=[redirector.trusted], http=loopback_client)


REDIRECT_REFUSALS: list[tuple[str, str, str]] = [
    ("http://10.0.0.1/x", "private_address", "http://10.0.0.1/x"),
    (
        "http://169.254.169.254/latest/meta-data/",
        "private_address",
        "http://169.254.169.254/latest/meta-data/",
    ),
    ("file:///etc/passwd", "scheme", "file:///etc/passwd"),
    ("gopher://10.0.0.1:6379/_x", "scheme", "gopher://10.0.0.1:6379/_x"),
    ("//10.0.0.1/x", "private_address", "http://10.0.0.1/x"),  # scheme-relative
    ("http://0x7f000001/", "private_address", "http://0x7f000001/"),
    ("http://metadata.example.test/", "private_address", "http://metadata.example.test/"),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("location", "reason", "refused"), REDIRECT_REFUSALS)
async def test_redirect_to_somewhere_unsafe(
    guard: UrlGuard, redirector: Redirector, location: str, reason: str, refused: str
) -> None:
    url = redirector.url("/to?" + str(httpx.QueryParams({"url": location})))
    with pytest.raises(UnsafeUrl) as caught:
        await guard.check(url)
    assert (caught.value.reason, caught.value.url) == (reason, refused)
    assert redirector.hits == [("HEAD", "/to")]  # probed once, the target never


@pytest.mark.anyio
async def test_redirect_to_localhost_is_not_covered_by_trust_in_127001(
    guard: UrlGuard, redirector: Redirector
) -> None:
    target = f"http://localhost:{redirector.server.port}/ok"
    with pytest.raises(UnsafeUrl) as caught:
        await guard.check(redirector.url("/to?" + str(httpx.QueryParams({"url": target}))))
    assert caught.value.reason == "private_address"


@pytest.mark.anyio
async def test_redirect_within_the_trusted_server(guard: UrlGuard, redirector: Redirector) -> None:
    target = redirector.url("/ok")
    await guard.check(redirector.url("/to?" + str(httpx.QueryParams({"url": target}))))
    assert redirector.hits == [("HEAD", "/to"), ("HEAD", "/ok")]


@pytest.mark.anyio
async def test_relative_redirect(guard: UrlGuard, redirector: Redirector) -> None:
    await guard.check(redirector.url("/to?url=ok"))
    assert redirector.hits == [("HEAD", "/to"), ("HEAD", "/ok")]


@pytest.mark.anyio
async def test_303_is_followed_and_304_is_not_a_redirect(
    guard: UrlGuard, redirector: Redirector
) -> None:
    with pytest.raises(UnsafeUrl) as caught:
        await guard.check(redirector.url("/see-other?url=http://10.0.0.1/"))
    assert caught.value.reason == "private_address"
    await guard.check(redirector.url("/not-modified"))  # its Location means nothing


@pytest.mark.anyio
async def test_chain_up_to_the_limit(guard: UrlGuard, redirector: Redirector) -> None:
    await guard.check(redirector.url("/chain/5"))  # 5 redirects, max_redirects=5
    assert [path for _, path in redirector.hits] == [f"/chain/{n}" for n in range(5, -1, -1)]


@pytest.mark.anyio
async def test_chain_past_the_limit(guard: UrlGuard, redirector: Redirector) -> None:
    with pytest.raises(UnsafeUrl) as caught:
        await guard.check(redirector.url("/chain/6"))
    assert caught.value.reason == "too_many_redirects"
    assert caught.value.url == redirector.url("/chain/0")
    assert len(redirector.hits) == 6  # the 7th hop was never requested


@pytest.mark.anyio
async def test_max_redirects_zero(
    redirector: Redirector, loopback_client: httpx.AsyncClient
) -> None:
    guard = UrlGuard(
        resolver=FakeResolver(), trusted=[redirector.trusted], http=loopback_client, max_redirects=0
    )
    await guard.check(redirector.url("/chain/0"))
    with pytest.raises(UnsafeUrl) as caught:
        await guard.check(redirector.url("/chain/1"))
    assert caught.value.reason == "too_many_redirects"


@pytest.mark.anyio
@pytest.mark.parametrize("path", ["/loop", "/ping"])
async def test_redirect_loops(guard: UrlGuard, redirector: Redirector, path: str) -> None:
    with pytest.raises(UnsafeUrl) as caught:
        await guard.check(redirector.url(path))
    assert caught.value.reason == "redirect_loop"
    assert len(redirector.hits) <= 3


@pytest.mark.anyio
async def test_get_fallback_when_head_is_not_allowed(
    guard: UrlGuard, redirector: Redirector
) -> None:
    with pytest.raises(UnsafeUrl) as caught:
        await guard.check(redirector.url("/no-head?url=http://10.0.0.1/x"))
    assert caught.value.reason == "private_address"
    assert redirector.hits == [("HEAD", "/no-head"), ("GET", "/no-head")]


@pytest.mark.anyio
async def test_follow_redirects_false_sends_nothing(
    guard: UrlGuard, redirector: Redirector
) -> None:
    await guard.check(redirector.url("/to?url=http://10.0.0.1/"), follow_redirects=False)
    assert redirector.hits == []


@pytest.mark.anyio
async def test_unreachable_is_not_a_refusal(loopback_client: httpx.AsyncClient) -> None:
    port = free_port()  # nothing listens: connection refused
    guard = UrlGuard(resolver=FakeResolver(), trusted=["127.0.0.1"], http=loopback_client)
    await guard.check(f"http://127.0.0.1:{port}/a.png")


@pytest.mark.anyio
async def test_a_slow_server_is_not_a_refusal(
    redirector: Redirector, loopback_client: httpx.AsyncClient
) -> None:
    guard = UrlGuard(
        resolver=FakeResolver(), trusted=[redirector.trusted], http=loopback_client, timeout=0.1
    )
    started = time.monotonic()
    await guard.check(redirector.url("/slow"))  # its late redirect is never seen
    assert time.monotonic() - started < 0.5
    assert redirector.hits == [("HEAD", "/slow")]


@pytest.mark.anyio
async def test_the_default_client(redirector: Redirector) -> None:
    # http=None: the guard makes its own client (trust_env=False, so no proxy is used).
    guard = UrlGuard(resolver=FakeResolver(), trusted=[redirector.trusted])
    with pytest.raises(UnsafeUrl) as caught:
        await guard.check(redirector.url("/to?url=http://10.0.0.1/"))
    assert caught.value.reason == "private_address"
    await guard.check(redirector.url("/chain/2"))
    assert len(redirector.hits) == 4


# --------------------------------------------------------------------------------------------
# The system resolver (numeric hosts only: tests never query real DNS)
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_system_resolver_on_a_numeric_host() -> None:
    assert await system_resolver("127.0.0.1", 80) == ["127.0.0.1"]


@pytest.mark.anyio
async def test_the_default_resolver_refuses_loopback_literals() -> None:
    guard = UrlGuard()  # system resolver, own client; refused before either is used
    with pytest.raises(UnsafeUrl) as caught:
        await guard.check("http://0x7f.0.0.1/")
    assert caught.value.reason == "private_address"
