"""archival_s3: outputs streamed into S3 (multipart) vs. a plain download of the same files."""

from __future__ import annotations

from aipaint.storage.s3 import PART_BYTES
from bench.harness import Context, Figure, scenario
from bench.scenarios.archival import CONCURRENCY, FULL, SMOKE, measure
from bench.server import running_s3

NOTE = (
    "As `archival`, with `AIPAINT_STORAGE_URL=s3://bench/bench` on moto's S3 server mode "
    "(`python -m moto.server`, a third process on 127.0.0.1, keeping objects in its own memory). "
    "aipaint streams each output from the simulator's link into a multipart upload as the bytes "
    f"arrive: parts of {PART_BYTES // 2**20} MiB, each sent once full, sha256 computed on the "
    "way, then a server-side copy of the object onto itself to set its sha256 metadata. "
    f"{CONCURRENCY} outputs at a time. The plain download baseline is measured in the same "
    "run against the same simulator and files. moto is an in-memory Python server: its own CPU "
    "(on the same 2 cores) bounds the throughput here, a real S3 service would not. Memory: "
    "aipaint's RSS increase only (moto's process holds the objects). **Reduced** as in "
    "`archival`: 10 files of 200 MB."
)


@scenario("archival_s3", "Archival into S3 vs. a plain download", note=NOTE)
def archival_s3(ctx: Context) -> list[Figure]:
    figures: list[Figure] = []
    for size in SMOKE if ctx.smoke else FULL:
        with running_s3() as s3:
            # No target for the ratio: moto, not aipaint, sets the pace here.
            figures += measure(size, s3.env, ratio_target=None)
    return figures
