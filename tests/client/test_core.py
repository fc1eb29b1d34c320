"""The client's I/O-free parts: where requests go, who gets the token, how outputs are named."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest

from aipaint.client import Client, DownloadError, EventStreamError
from aipaint.client._core import (
    POLL_MAX,
    Endpoint,
    EventFollower,
    Integrity,
    Watcher,
    model_path,
    output_path,
    poll_delays,
    task_path,
    upload_name,
)
from aipaint.client.types import Output, Task

TASK: Task = {"id": "tsk_1", "model": "m", "params": {}, "status": "succeeded"}


class TestEndpoint:
    def test_defaults_from_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("AIPAINT_SERVER", "https://paint.example/")
        monkeypatch.setenv("AIPAINT_TOKEN", "secret")
        endpoint = Endpoint(None, None)
        assert endpoint.base_url == "https://paint.example"
        assert endpoint.headers()["Authorization"] == "Bearer secret"

    def test_built_in_defaults(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("AIPAINT_SERVER", raising=False)
        monkeypatch.delenv("AIPAINT_TOKEN", raising=False)
        endpoint = Endpoint(None, None)
        assert endpoint.base_url == "http://127.0.0.1:8000"
        assert "Authorization" not in endpoint.headers()

    def test_arguments_win(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("AIPAINT_SERVER", "https://paint.example")
        monkeypatch.setenv("AIPAINT_TOKEN", "from-env")
        endpoint = Endpoint("http://localhost:9000", "given", "zh-CN")
        assert endpoint.url("/v1/tasks") == "http://localhost:9000/v1/tasks"
        assert endpoint.headers()["Authorization"] == "Bearer given"
        assert endpoint.headers()["Accept-Language"] == "zh-CN"

    @pytest.mark.parametrize(
        "url", ["ftp://x", "localhost:8000", "mailto:x", "http://", "http://a:b"]
    )
    def test_a_server_that_is_not_http(self, url: str) -> None:
        with pytest.raises(ValueError, match="http"):
            Client(url)

    @pytest.mark.parametrize(
        ("url", "resolved"),
        [
            ("/files/a.png?sig=1", "http://127.0.0.1:8000/files/a.png?sig=1"),
            ("files/a.png", "http://127.0.0.1:8000/files/a.png"),
            ("https://cdn.example/a.png", "https://cdn.example/a.png"),
        ],
    )
    def test_output_urls_resolve_against_the_server(self, url: str, resolved: str) -> None:
        assert Endpoint("http://127.0.0.1:8000/", "t").resolve(url) == resolved

    def test_a_broken_output_url(self) -> None:
        with pytest.raises(DownloadError, match="not a URL"):
            Endpoint("http://127.0.0.1:8000/", "t").resolve("http://a:b/x")

    @pytest.mark.parametrize(
        ("url", "gets_token"),
        [
            ("http://127.0.0.1:8000/files/a.png", True),
            ("HTTP://127.0.0.1:8000/files/a.png", True),
            ("http://127.0.0.1:8001/files/a.png", False),
            ("https://127.0.0.1:8000/files/a.png", False),
            ("http://localhost:8000/files/a.png", False),
            ("https://rh-images.example/a.png", False),
            ("http://127.0.0.1:8000.evil.example/a.png", False),
            ("http://127.0.0.1:8000@evil.example/a.png", False),
        ],
    )
    def test_the_token_goes_to_the_server_origin_only(self, url: str, gets_token: bool) -> None:
        headers = Endpoint("http://127.0.0.1:8000", "secret").download_headers(url)
        assert ("Authorization" in headers) is gets_token

    def test_default_ports_are_the_same_origin(self) -> None:
        endpoint = Endpoint("https://paint.example", "secret")
        assert "Authorization" in endpoint.download_headers("https://paint.example:443/f")
        assert "Authorization" not in endpoint.download_headers("http://paint.example/f")


def test_paths() -> None:
    assert model_path("rhart-video/ltx-2.3/text-to-video") == (
        "/v1/models/rhart-video/ltx-2.3/text-to-video"
    )
    assert task_path("tsk_1", "/events") == "/v1/tasks/tsk_1/events"
    assert task_path("../admin?x=1") == "/v1/tasks/..%2Fadmin%3Fx%3D1"


class TestOutputNames:
    def output(self, **fields: object) -> Output:
        return {"index": 2, "type": "png", "url": "/files/x", **fields}  # type: ignore[typeddict-item]

    def test_named_by_task_index_and_type(self, tmp_path: Path) -> None:
        assert output_path(tmp_path, TASK, self.output()) == tmp_path / "tsk_1_2.png"

    def test_text_outputs_are_txt(self, tmp_path: Path) -> None:
        text = self.output(type="txt", url=None, text="hello")
        assert output_path(tmp_path, TASK, text) == tmp_path / "tsk_1_2.txt"

    def test_a_vague_type_takes_the_url_suffix_or_content_type(self, tmp_path: Path) -> None:
        vague = self.output(type="video")
        assert output_path(tmp_path, TASK, vague, "http://h/a/b.mp4?s=1").suffix == ".mp4"
        assert output_path(tmp_path, TASK, vague, "http://h/a/b", "image/jpeg").suffix == ".jpg"
        assert output_path(tmp_path, TASK, vague, "http://h/a/b", None).suffix == ".bin"

    def test_an_unsafe_task_id_cannot_escape_the_folder(self, tmp_path: Path) -> None:
        task: Task = {**TASK, "id": "../../etc/passwd"}
        path = output_path(tmp_path, task, self.output(type="../x"))
        assert path.parent == tmp_path
        assert "/" not in path.name


class TestIntegrity:
    def test_a_matching_download(self) -> None:
        integrity = Integrity()
        integrity.update(b"abc")
        sha = hashlib.sha256(b"abc").hexdigest()
        integrity.check(
            {"index": 0, "type": "png", "url": "u", "archived": True, "bytes": 3, "sha256": sha}
        )

    def test_a_short_download(self) -> None:
        integrity = Integrity()
        integrity.update(b"ab")
        with pytest.raises(DownloadError, match="got 2 bytes, expected 3"):
            integrity.check({"index": 0, "type": "png", "url": "u", "archived": True, "bytes": 3})

    def test_a_corrupt_download(self) -> None:
        integrity = Integrity()
        integrity.update(b"abd")
        sha = hashlib.sha256(b"abc").hexdigest()
        with pytest.raises(DownloadError, match="SHA-256"):
            integrity.check(
                {"index": 0, "type": "png", "url": "u", "archived": True, "sha256": sha}
            )

    def test_an_unarchived_output_is_not_checked(self) -> None:
        Integrity().check({"index": 0, "type": "png", "url": "u", "archived": False, "bytes": 9})


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"\x89PNG\r\n\x1a\n...", "upload.png"),
        (b"\xff\xd8\xff\xe0...", "upload.jpg"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "upload.webp"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "upload.wav"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom\x00\x00\x00\x08free", "upload.mp4"),
        (
            b"ID3\x04\x00\x00\x00\x00\x00\x0a" + b"\x00" * 10 + b"\xff\xfb\x90\x64" + b"\x00" * 40,
            "upload.mp3",
        ),
        (b"hello", "upload.bin"),
    ],
)
def test_bytes_are_named_by_their_content(data: bytes, name: str) -> None:
    assert upload_name(data, None) == name
    assert upload_name(data, "given.jpeg") == "given.jpeg"


def test_a_path_keeps_its_name(tmp_path: Path) -> None:
    assert upload_name(tmp_path / "cat.webp", None) == "cat.webp"


class TestEventFollower:
    def test_only_changes_are_news(self) -> None:
        follower = EventFollower("t")
        queued: Task = {**TASK, "status": "queued"}
        assert follower.offer(queued, streamed=True)
        assert not follower.offer(dict(queued), streamed=True)  # type: ignore[arg-type]
        assert follower.offer(TASK, streamed=False)

    def test_one_reconnect_per_drop_restored_by_streamed_news(self) -> None:
        follower = EventFollower("t")
        follower.dropped(httpx.ReadError("cut"))
        follower.offer({**TASK, "status": "running"}, streamed=False)  # a re-read: no credit
        with pytest.raises(EventStreamError, match="dropped: cut"):
            follower.dropped(httpx.ReadError("cut"))

    def test_streamed_news_restores_the_reconnect(self) -> None:
        follower = EventFollower("t")
        follower.dropped(None)
        follower.offer({**TASK, "status": "running"}, streamed=True)
        follower.dropped(None)
        with pytest.raises(EventStreamError, match="before the task finished"):
            follower.dropped(None)

    def test_a_quiet_stream_is_not_a_broken_one(self) -> None:
        follower = EventFollower("t")
        for _ in range(5):
            follower.dropped(httpx.ReadTimeout("quiet"))
        follower.dropped(None)

    def test_resume_headers(self) -> None:
        follower = EventFollower("t")
        assert "Last-Event-ID" not in follower.headers()
        follower.last_event_id = "7"
        assert follower.headers()["Last-Event-ID"] == "7"


def test_the_watcher_reports_each_state_once() -> None:
    seen: list[str] = []
    watcher = Watcher("t", lambda task: seen.append(task["status"]))
    for status in ("queued", "queued", "running", "running", "succeeded"):
        watcher.see({**TASK, "status": status})
    assert seen == ["queued", "running", "succeeded"]


def test_polling_backs_off_to_a_cap() -> None:
    delays = poll_delays()
    first = [next(delays) for _ in range(12)]
    assert first[0] < first[1] < first[2]
    assert first[-1] == POLL_MAX
