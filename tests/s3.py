"""S3 for tests: moto's server mode, a real S3 HTTP endpoint in a process of its own on a free
port, and the switch that puts the end-to-end stacks on it (AIPAINT_TEST_STORAGE=s3)."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.config import Config
from botocore.session import get_session

from aipaint.kit.background_server import free_port
from aipaint.storage import S3Options, S3Storage
from tests.support import running

REGION = "us-east-1"
# moto accepts any key unless its authentication is switched on (`s3_server(auth=True)`).
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test-key", "AWS_SECRET_ACCESS_KEY": "test-secret"}


@dataclass
class S3Server:
    url: str

    @property
    def options(self) -> S3Options:
        return S3Options(endpoint_url=self.url, region=REGION, addressing_style="path")

    def client(self) -> Any:
        """A plain boto3 client, to look at the bucket from outside aipaint."""
        return get_session().create_client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            config=Config(s3={"addressing_style": "path"}),
        )

    def new_bucket(self) -> str:
        name = f"aipaint-{secrets.token_hex(6)}"
        self.client().create_bucket(Bucket=name)
        return name

    def storage(self, bucket: str, prefix: str = "archive") -> S3Storage:
        return S3Storage(bucket, prefix, self.options)

    def env(self, bucket: str, prefix: str = "archive") -> dict[str, str]:
        """What an aipaint process needs to archive into `bucket`."""
        return {
            "AIPAINT_STORAGE_URL": f"s3://{bucket}/{prefix}",
            "AIPAINT_S3_ENDPOINT_URL": self.url,
            "AIPAINT_S3_REGION": REGION,
            "AIPAINT_S3_ADDRESSING_STYLE": "path",
            **CREDENTIALS,
        }

    def open_uploads(self, bucket: str) -> list[dict[str, Any]]:
        uploads: list[dict[str, Any]] = (
            self.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        )
        return uploads

    def object(self, bucket: str, name: str) -> tuple[bytes, dict[str, Any]]:
        """An object's bytes and its HEAD (content type, metadata)."""
        response = self.client().get_object(Bucket=bucket, Key=name)
        return response["Body"].read(), response


@contextmanager
def s3_server(directory: Path, *, auth: bool = False) -> Iterator[S3Server]:
    """`moto.server` on a free port; with `auth`, it refuses every credential."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, **CREDENTIALS}
    if auth:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"  # check every request's key: none is known
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with running(command, f"{url}/moto-api/", log=directory / f"moto-{port}.log", env=env):
        yield S3Server(url)


def s3_storage() -> bool:
    """AIPAINT_TEST_STORAGE=s3: the end-to-end stacks archive into S3 (the third pass of
    `scripts/test`), on one moto server shared by the session, a bucket per stack."""
    return os.environ.get("AIPAINT_TEST_STORAGE", "local") == "s3"


_shared: list[tuple[S3Server, Any]] = []


def shared_s3(directory: Path) -> S3Server:
    """The session's moto server, started on first use; `stop_shared_s3` ends it."""
    if not _shared:
        context = s3_server(directory)
        _shared.append((context.__enter__(), context))
    return _shared[0][0]


def stop_shared_s3() -> None:
    while _shared:
        _, context = _shared.pop()
        context.__exit__(None, None, None)


def storage_env(directory: Path) -> dict[str, str]:
    """Variables that put an aipaint process on a new bucket of its own, when the switch is on."""
    if not s3_storage():
        return {}
    server = shared_s3(directory)
    return server.env(server.new_bucket())
