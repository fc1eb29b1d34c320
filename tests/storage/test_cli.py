"""`aipaint storage check` and `aipaint storage copy`, run as the command a user runs, against a
real S3-compatible server (moto's server mode) and a real local archive."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aipaint.kit.background_server import free_port
from tests.e2e.test_lifecycle import TEXT_TO_IMAGE, create, png
from tests.s3 import S3Server, s3_server
from tests.stacks import server, simulator, wait_final


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with s3_server(tmp_path_factory.mktemp("moto")) as started:
        yield started


def aipaint(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aipaint", "storage", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


class TestCheck:
    def test_all_is_well(self, s3: S3Server, tmp_path: Path) -> None:
        bucket = s3.new_bucket()
        done = aipaint({"AIPAINT_DATA_DIR": str(tmp_path), **s3.env(bucket)}, "check")
        assert done.returncode == 0, done.stderr
        assert (
            done.stdout.strip()
            == f"storage ok: s3://{bucket}/archive (a probe object written, read and deleted)"
        )
        assert "Contents" not in s3.client().list_objects_v2(Bucket=bucket)  # the probe is gone

    def test_the_local_default(self, tmp_path: Path) -> None:
        done = aipaint({"AIPAINT_DATA_DIR": str(tmp_path)}, "check")
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "files").is_dir()

    @pytest.mark.parametrize(
        ("problem", "says"),
        [
            ("missing bucket", "the bucket 'no-such-bucket' does not exist"),
            ("refused credentials", "the credentials were refused (InvalidAccessKeyId)"),
            ("unreachable endpoint", "is unreachable (EndpointConnectionError)"),
        ],
    )
    def test_one_line_says_what_is_wrong(
        self, s3: S3Server, tmp_path: Path, problem: str, says: str
    ) -> None:
        env = {"AIPAINT_DATA_DIR": str(tmp_path), **s3.env("no-such-bucket")}
        with s3_server(tmp_path, auth=True) as strict:
            if problem == "refused credentials":
                env |= strict.env("no-such-bucket")
            elif problem == "unreachable endpoint":
                env["AIPAINT_S3_ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"
            done = aipaint(env, "check")
        assert done.returncode == 1
        assert done.stdout == ""
        [line] = done.stderr.splitlines()
        assert line.startswith("aipaint storage check: s3://no-such-bucket/archive: ")
        assert says in line

    def test_a_malformed_url(self, tmp_path: Path) -> None:
        env = {"AIPAINT_DATA_DIR": str(tmp_path), "AIPAINT_STORAGE_URL": "s3:///no-bucket"}
        done = aipaint(env, "check")
        assert done.returncode == 2
        assert "names a bucket" in done.stderr


def test_copy_moves_a_local_archive_verifying_checksums(s3: S3Server, tmp_path: Path) -> None:
    """A real archive (a task's output and an upload, made by `aipaint serve` on local files)
    copied to a bucket; a re-run skips what is there; a damaged local file is refused."""
    with simulator(tmp_path) as sim, server(tmp_path, sim) as serve, serve.http() as http:
        if "AIPAINT_STORAGE_URL" in serve.env:
            pytest.skip("the stacks archive into S3 in this pass: there is no local archive")
        done = wait_final(http, create(http, TEXT_TO_IMAGE, {"prompt": "a fox"})["id"])
        assert done["status"] == "succeeded"
        image = http.post("/v1/uploads", files={"file": ("cat.png", png(), "image/png")})
        assert image.status_code == 200
        env = serve.env
    bucket = s3.new_bucket()
    target = s3.env(bucket, "moved")
    env = {**env, **{k: v for k, v in target.items() if k != "AIPAINT_STORAGE_URL"}}
    url = f"s3://{bucket}/moved"

    first = aipaint(env, "copy", "--to", url)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("copied 2, already there 0, failed 0")
    [output] = done["outputs"]
    body, head = s3.object(bucket, f"moved/tasks/{done['id']}/0.png")
    assert hashlib.sha256(body).hexdigest() == output["sha256"] == head["Metadata"]["sha256"]
    upload_sha = image.json()["sha256"]
    assert s3.object(bucket, f"moved/uploads/{upload_sha}.png")[0] == png()

    again = aipaint(env, "copy", "--to", url)
    assert again.stdout.startswith("copied 0, already there 2, failed 0"), again.stderr

    local = Path(env["AIPAINT_DATA_DIR"]) / "files" / "tasks" / done["id"] / "0.png"
    local.write_bytes(local.read_bytes()[:-1] + b"!")
    s3.client().delete_object(Bucket=bucket, Key=f"moved/tasks/{done['id']}/0.png")
    damaged = aipaint(env, "copy", "--to", url)
    assert damaged.returncode == 1
    assert "the local file's sha256 is not the one recorded" in damaged.stderr
    assert damaged.stdout.startswith("copied 0, already there 1, failed 1")

    refused = aipaint(env, "copy", "--to", "file:///tmp/elsewhere")
    assert refused.returncode == 2
    assert "--to takes an s3:// URL" in refused.stderr
