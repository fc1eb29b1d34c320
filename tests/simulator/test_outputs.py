"""The simulator's output files are real: they decode, have the requested shape, and pad safely."""

from __future__ import annotations

import io
import json
import struct
import tracemalloc
import zlib
from collections.abc import Mapping
from typing import Any

import av
import pytest
from PIL import Image

from aipaint.simulator import outputs
from aipaint.simulator.outputs import OutputFile, image_size, render, text_output, video_size

PROMPT = "A lighthouse on a cliff in a storm, dramatic light"

# --------------------------------------------------------------------------------------------
# Sizes
# --------------------------------------------------------------------------------------------

IMAGE_SIZES: list[tuple[dict[str, Any], tuple[int, int]]] = [
    ({}, (1024, 1024)),
    # Explicit width + height win over everything and are honoured exactly (no 8-px snapping).
    ({"width": 1000, "height": 750}, (1000, 750)),
    ({"width": "1000", "height": "750"}, (1000, 750)),
    ({"width": 801, "height": 601, "size": "1024*1024", "aspectRatio": "16:9"}, (801, 601)),
    ({"width": 8192, "height": 10}, (4096, 64)),
    # A WxH / W*H value, wherever the model keeps it.
    ({"size": "1280*1280"}, (1280, 1280)),
    ({"size": "2048x2048"}, (2048, 2048)),
    ({"size": "1344*576", "aspectRatio": "1:1"}, (1344, 576)),
    ({"aspectRatio": "960x960"}, (960, 960)),
    ({"resolution": "1280*720"}, (1280, 720)),
    # Aspect ratio at the default 1024 long side.
    ({"aspectRatio": "16:9"}, (1024, 576)),
    ({"aspectRatio": "9:16"}, (576, 1024)),
    ({"ratio": "4:3"}, (1024, 768)),
    ({"aspectRatio": "21:9"}, (1024, 440)),
    ({"aspectRatio": "1:8"}, (128, 1024)),
    ({"aspectRatio": "auto"}, (1024, 1024)),
    ({"aspectRatio": "empty", "resolution": "2k"}, (2048, 2048)),
    # Resolution tiers: "NK" is the long side, "Np" the short side.
    ({"size": "2K"}, (2048, 2048)),
    ({"size": "4K", "aspectRatio": "16:9"}, (4096, 2304)),
    ({"aspectRatio": "3:4", "resolution": "4k"}, (3072, 4096)),
    ({"aspectRatio": "1:1", "resolution": "1K"}, (1024, 1024)),
    ({"aspectRatio": "8:1", "resolution": "8k"}, (4096, 512)),
    ({"aspectRatio": "16:9", "resolution": "1080p"}, (1920, 1080)),
    ({"aspectRatio": "9:16", "resolution": "720P"}, (720, 1280)),
    ({"aspectRatio": "16:9", "resolution": "540p"}, (960, 544)),
    ({"resolution": "native1080p"}, (1080, 1080)),
    # One stated side is exact; the other follows the ratio and snaps to 8 px.
    ({"width": 1000}, (1000, 1000)),
    ({"width": 1000, "aspectRatio": "16:9"}, (1000, 560)),
    ({"height": 900, "aspectRatio": "3:2"}, (1352, 900)),
    # Image-enhance models state edges; -1 means "no limit".
    ({"longEdgeSize": 2000, "shortEdgeSize": -1}, (2000, 2000)),
    ({"longEdgeSize": -1, "shortEdgeSize": -1}, (1024, 1024)),
    # Junk is ignored rather than crashing the simulator.
    ({"width": True, "height": 0, "size": "big", "aspectRatio": "0:1"}, (1024, 1024)),
]


@pytest.mark.parametrize(("params", "expected"), IMAGE_SIZES)
def test_image_size(params: dict[str, Any], expected: tuple[int, int]) -> None:
    assert image_size(params) == expected


VIDEO_SIZES: list[tuple[dict[str, Any], tuple[int, int]]] = [
    ({}, (640, 360)),  # 16:9 when nothing is asked
    ({"aspectRatio": "9:16", "resolution": "1080p"}, (360, 640)),
    ({"aspectRatio": "1:1", "resolution": "720p"}, (640, 640)),
    ({"resolution": "1080*1920"}, (360, 640)),
    ({"size": "832*480"}, (640, 370)),
    ({"ratio": "adaptive"}, (640, 360)),
    ({"width": 200, "height": 100}, (200, 100)),  # never upscaled
]


@pytest.mark.parametrize(("params", "expected"), VIDEO_SIZES)
def test_video_size(params: dict[str, Any], expected: tuple[int, int]) -> None:
    assert video_size(params) == expected


@pytest.mark.parametrize("params", [params for params, _ in IMAGE_SIZES])
def test_video_size_is_small_even_and_keeps_the_aspect(params: dict[str, Any]) -> None:
    width, height = video_size(params)
    asked_width, asked_height = outputs._requested_size(params, default_ratio=(16.0, 9.0))
    assert width % 2 == 0
    assert height % 2 == 0
    assert max(width, height) <= 640
    assert width / height == pytest.approx(asked_width / asked_height, rel=0.05)


# --------------------------------------------------------------------------------------------
# PNG
# --------------------------------------------------------------------------------------------


def png_chunks(data: bytes) -> list[tuple[bytes, int]]:
    """(type, length) of every chunk, checking the signature and each CRC on the way."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(body, zlib.crc32(kind)) == crc, kind
        chunks.append((kind, length))
        offset += 12 + length
    assert offset == len(data)
    return chunks


def decode_png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"prompt": PROMPT, "width": 601, "height": 403}, (601, 403)),
        ({"textPrompt": PROMPT, "size": "768*1152"}, (768, 1152)),
        ({"text": PROMPT, "aspectRatio": "16:9", "resolution": "1k"}, (1024, 576)),
        ({"aspectRatio": "9:16"}, (576, 1024)),
        ({"prompt": "tiny", "width": 64, "height": 64}, (64, 64)),
    ],
)
def test_png_decodes_at_the_requested_size(
    params: dict[str, Any], expected: tuple[int, int]
) -> None:
    output = render("image", params, seed=7)
    assert (output.extension, output.content_type) == ("png", "image/png")
    image = decode_png(output.data)
    assert image.format == "PNG"
    assert image.size == expected
    assert image.mode == "RGB"
    assert png_chunks(output.data)[-1] == (b"IEND", 0)


def test_png_shows_the_prompt_on_a_seeded_gradient() -> None:
    params = {"prompt": PROMPT, "width": 512, "height": 512}
    image = decode_png(render("image", params, seed=1).data).convert("RGB")
    corners = {image.getpixel((4, 4)), image.getpixel((507, 507))}
    assert len(corners) == 2  # a gradient, not a flat fill
    _, lightest = image.crop((64, 150, 448, 360)).convert("L").getextrema()
    assert isinstance(lightest, int)
    assert lightest > 235  # white prompt text on the dark card
    other_prompt = render("image", {**params, "prompt": "something else"}, seed=1).data
    other_seed = render("image", params, seed=2).data
    assert len({render("image", params, seed=1).data, other_prompt, other_seed}) == 3


def test_long_chinese_prompt_still_renders() -> None:
    prompt = "一只小巧可爱的卡通小猫将军，身穿细节精致的金色盔甲，勇敢地站在悬崖上。" * 30
    image = decode_png(render("image", {"prompt": prompt, "size": "720*1280"}, seed=3).data)
    assert image.size == (720, 1280)


# --------------------------------------------------------------------------------------------
# MP4
# --------------------------------------------------------------------------------------------


def top_level_boxes(data: bytes) -> list[bytes]:
    boxes, offset = [], 0
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            (size,) = struct.unpack(">Q", data[offset + 8 : offset + 16])
        assert size >= 8
        boxes.append(kind)
        offset += size
    assert offset == len(data)
    return boxes


def check_mp4(data: bytes, size: tuple[int, int]) -> None:
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.width, stream.height) == size
        assert stream.codec_context.pix_fmt == "yuv420p"
        frames = list(container.decode(video=0))
    assert len(frames) >= 10
    assert {(frame.width, frame.height) for frame in frames} == {size}
    assert bytes(frames[0].planes[0]) != bytes(frames[-1].planes[0])  # the bar moves
    assert frames[-1].time == pytest.approx(11 / 12, abs=0.01)  # ~1 s at 12 fps


@pytest.mark.parametrize(
    "params",
    [
        {"prompt": PROMPT, "aspectRatio": "16:9", "resolution": "1080p", "duration": "10"},
        {"prompt": PROMPT, "resolution": "720*1280"},
    ],
)
def test_mp4_is_browser_ready_h264(params: dict[str, Any]) -> None:
    output = render("video", params, seed=5)
    assert (output.extension, output.content_type) == ("mp4", "video/mp4")
    check_mp4(output.data, video_size(params))
    boxes = top_level_boxes(output.data)
    assert boxes.index(b"moov") < boxes.index(b"mdat")  # +faststart


# --------------------------------------------------------------------------------------------
# MP3
# --------------------------------------------------------------------------------------------


def decoded_seconds(data: bytes) -> float:
    with av.open(io.BytesIO(data), mode="r") as container:
        assert container.format.name == "mp3"
        stream = container.streams.audio[0]
        assert stream.codec_context.name in {"mp3", "mp3float"}
        assert stream.sample_rate == 44_100
        assert stream.codec_context.layout.nb_channels == 1
        samples = sum(frame.samples for frame in container.decode(audio=0))
    return samples / 44_100


def test_mp3_is_a_one_second_tone() -> None:
    output = render("audio", {"prompt": PROMPT}, seed=9)
    assert (output.extension, output.content_type) == ("mp3", "audio/mpeg")
    assert 0.9 <= decoded_seconds(output.data) <= 1.2


# --------------------------------------------------------------------------------------------
# GLB
# --------------------------------------------------------------------------------------------

Vec3 = tuple[float, float, float]


def parse_glb(data: bytes) -> tuple[dict[str, Any], bytes]:
    magic, version, length = struct.unpack("<4sII", data[:12])
    assert (magic, version, length) == (b"glTF", 2, len(data))
    json_length, json_type = struct.unpack("<I4s", data[12:20])
    assert json_type == b"JSON"
    assert json_length % 4 == 0
    document: dict[str, Any] = json.loads(data[20 : 20 + json_length])
    bin_start = 20 + json_length
    bin_length, bin_type = struct.unpack("<I4s", data[bin_start : bin_start + 8])
    assert bin_type == b"BIN\x00"
    assert bin_length % 4 == 0
    assert bin_start + 8 + bin_length == len(data)
    assert document["buffers"] == [{"byteLength": bin_length}]
    return document, data[bin_start + 8 :]


def cube_geometry(document: Mapping[str, Any], binary: bytes) -> tuple[list[Vec3], list[int]]:
    primitive = document["meshes"][0]["primitives"][0]
    accessors, views = document["accessors"], document["bufferViews"]
    position = accessors[primitive["attributes"]["POSITION"]]
    index = accessors[primitive["indices"]]
    position_view, index_view = views[position["bufferView"]], views[index["bufferView"]]
    assert (position["componentType"], position["type"]) == (5126, "VEC3")
    assert (index["componentType"], index["type"]) == (5123, "SCALAR")
    assert position_view["byteLength"] == position["count"] * 12
    assert index_view["byteLength"] == index["count"] * 2
    assert position_view["byteOffset"] % 4 == 0

    start = position_view["byteOffset"]
    flat = struct.unpack(
        f"<{position['count'] * 3}f", binary[start : start + position_view["byteLength"]]
    )
    vertices = [(flat[i], flat[i + 1], flat[i + 2]) for i in range(0, len(flat), 3)]
    start = index_view["byteOffset"]
    indices = list(
        struct.unpack(f"<{index['count']}H", binary[start : start + index_view["byteLength"]])
    )

    assert position["min"] == [min(vertex[axis] for vertex in vertices) for axis in range(3)]
    assert position["max"] == [max(vertex[axis] for vertex in vertices) for axis in range(3)]
    assert (index["min"], index["max"]) == ([min(indices)], [max(indices)])
    return vertices, indices


def test_glb_is_a_valid_cube() -> None:
    output = render("3d", {"prompt": PROMPT}, seed=4)
    assert (output.extension, output.content_type) == ("glb", "model/gltf-binary")
    document, binary = parse_glb(output.data)
    assert document["asset"]["version"] == "2.0"
    vertices, indices = cube_geometry(document, binary)
    assert len(vertices) == 8
    assert len(indices) == 36
    assert max(indices) < len(vertices)

    normals = set()
    for first in range(0, len(indices), 3):
        a, b, c = (vertices[i] for i in indices[first : first + 3])
        u = (b[0] - a[0], b[1] - a[1], b[2] - a[2])
        v = (c[0] - a[0], c[1] - a[1], c[2] - a[2])
        normal = (u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0])
        centre = tuple((a[axis] + b[axis] + c[axis]) / 3 for axis in range(3))
        # Counter-clockwise from outside: the normal points away from the cube's centre.
        assert sum(n * p for n, p in zip(normal, centre, strict=True)) > 0
        normals.add(tuple(round(n) for n in normal))
    assert len(normals) == 6  # every face of the cube is covered


# --------------------------------------------------------------------------------------------
# Padding
# --------------------------------------------------------------------------------------------

PAD = 3_000_000


def test_padded_png_stays_valid() -> None:
    data = render(
        "image", {"prompt": PROMPT, "width": 320, "height": 240}, seed=1, pad_to_bytes=PAD
    ).data
    assert len(data) >= PAD
    assert decode_png(data).size == (320, 240)
    kinds = [kind for kind, _ in png_chunks(data)]
    assert b"rhSm" in kinds
    assert kinds[-1] == b"IEND"


def test_padded_png_spanning_several_filler_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outputs, "_FILLER_BLOCK", 100_000)
    data = render("image", {"width": 64, "height": 64}, seed=1, pad_to_bytes=PAD + 5).data
    assert PAD + 5 <= len(data) < PAD + 5 + 12
    assert decode_png(data).size == (64, 64)
    assert [kind for kind, _ in png_chunks(data)].count(b"rhSm") > 20


def test_padded_mp4_stays_valid() -> None:
    params = {"prompt": PROMPT, "aspectRatio": "9:16"}
    data = render("video", params, seed=1, pad_to_bytes=PAD).data
    assert len(data) == PAD
    assert top_level_boxes(data)[-1] == b"free"
    check_mp4(data, video_size(params))


def test_padded_mp3_stays_valid() -> None:
    data = render("audio", {}, seed=1, pad_to_bytes=PAD).data
    assert len(data) >= PAD
    assert data[:3] == b"ID3"
    assert decoded_seconds(data) >= 0.5


def test_mp3_pad_beyond_one_id3_tag_chains_tags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outputs, "_ID3_MAX_BODY", 50_000)
    data = render("audio", {}, seed=1, pad_to_bytes=500_000).data
    assert len(data) >= 500_000
    assert data.count(b"ID3\x04\x00\x00") >= 10
    assert decoded_seconds(data) >= 0.5


@pytest.mark.parametrize("pad", [PAD, PAD + 1, PAD + 2, PAD + 3])
def test_padded_glb_stays_valid(pad: int) -> None:
    data = render("3d", {}, seed=1, pad_to_bytes=pad).data
    assert pad <= len(data) < pad + 8
    document, binary = parse_glb(data)
    vertices, indices = cube_geometry(document, binary)
    assert (len(vertices), len(indices)) == (8, 36)


@pytest.mark.parametrize("output_type", ["image", "video", "audio", "3d"])
def test_padding_is_built_once(output_type: str) -> None:
    pad = 40_000_000
    tracemalloc.start()
    try:
        data = render(output_type, {"width": 64, "height": 64}, seed=1, pad_to_bytes=pad).data
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(data) >= pad
    # The result itself plus one shared zero block (16 MiB); a second full copy would be 2x.
    assert peak < pad * 1.5


@pytest.mark.parametrize("output_type", ["image", "video", "audio", "3d"])
def test_no_padding_when_already_big_enough(output_type: str) -> None:
    plain = render(output_type, {}, seed=1).data
    assert render(output_type, {}, seed=1, pad_to_bytes=len(plain)).data == plain
    assert render(output_type, {}, seed=1, pad_to_bytes=0).data == plain


# --------------------------------------------------------------------------------------------
# Determinism, text, errors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("output_type", ["image", "video", "audio", "3d"])
def test_same_seed_same_bytes(output_type: str) -> None:
    params = {"prompt": PROMPT, "width": 256, "height": 256}
    first: OutputFile = render(output_type, params, seed=123)
    assert render(output_type, dict(params), seed=123) == first
    if output_type != "audio":  # the tone picks one of 11 notes, so seeds may collide
        assert render(output_type, params, seed=124).data != first.data


def test_text_output_is_deterministic_and_echoes_the_prompt() -> None:
    text = text_output({"prompt": "describe this picture"}, seed=3)
    assert text == text_output({"prompt": "describe this picture"}, seed=3)
    assert "describe this picture" in text
    assert "aipaint simulator" in text_output({}, seed=3)
    assert len(text_output({"prompt": "x" * 5000}, seed=3)) < 400


@pytest.mark.parametrize("output_type", ["text", "spreadsheet"])
def test_render_rejects_non_file_types(output_type: str) -> None:
    with pytest.raises(ValueError, match=output_type):
        render(output_type, {}, seed=1)


def test_render_rejects_negative_padding() -> None:
    with pytest.raises(ValueError, match="pad_to_bytes"):
        render("3d", {}, seed=1, pad_to_bytes=-1)
