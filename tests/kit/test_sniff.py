"""Content sniffing: real files of every kind aipaint handles, hand-made heads, and non-media."""

from __future__ import annotations

import io
import random
import struct
from collections.abc import Callable
from fractions import Fraction
from functools import cache
from pathlib import Path

import av
import pytest
from PIL import Image

from aipaint.kit.sniff import HEAD_BYTES, Sniffed, sniff

# --------------------------------------------------------------------------------------------
# Real files, written by Pillow and PyAV in memory
# --------------------------------------------------------------------------------------------


@cache
def image(format: str) -> bytes:
    # Noise, so no format compresses the file down to less than a head.
    pixels = random.Random(format).randbytes(32 * 32 * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (32, 32), pixels).save(buffer, format=format)
    return buffer.getvalue()


@cache
def video(format: str, codec: str) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=format) as container:
        stream = container.add_stream(codec, rate=4)
        assert isinstance(stream, av.VideoStream)  # the codec is a variable: narrow for mypy
        stream.width = stream.height = 16
        stream.pix_fmt = "yuv420p"
        for index in range(2):
            frame = av.VideoFrame.from_bytes(bytes(16 * 16 * 4), 16, 16, format="rgba")
            frame.pts = index
            frame.time_base = Fraction(1, 4)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()


@cache
def audio(format: str, codec: str, *, rate: int = 48_000, **options: str) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=format, container_options=options) as container:
        stream = container.add_stream(codec, rate=rate)
        assert isinstance(stream, av.AudioStream)
        stream.layout = "mono"
        samples = rate // 10
        frame = av.AudioFrame(format="s16", layout="mono", samples=samples)
        frame.planes[0].update(bytes(samples * 2))
        frame.sample_rate = rate
        frame.pts = 0
        frame.time_base = Fraction(1, rate)
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()


REAL_FILES: list[tuple[str, Callable[[], bytes], Sniffed]] = [
    ("png", lambda: image("PNG"), Sniffed("image/png", "png", "image")),
    ("jpeg", lambda: image("JPEG"), Sniffed("image/jpeg", "jpg", "image")),
    ("gif", lambda: image("GIF"), Sniffed("image/gif", "gif", "image")),
    ("webp", lambda: image("WEBP"), Sniffed("image/webp", "webp", "image")),
    ("bmp", lambda: image("BMP"), Sniffed("image/bmp", "bmp", "image")),
    ("tiff", lambda: image("TIFF"), Sniffed("image/tiff", "tiff", "image")),
    ("avif", lambda: image("AVIF"), Sniffed("image/avif", "avif", "image")),
    ("mp4", lambda: video("mp4", "libx264"), Sniffed("video/mp4", "mp4", "video")),
    ("mov", lambda: video("mov", "libx264"), Sniffed("video/quicktime", "mov", "video")),
    ("mkv", lambda: video("matroska", "libx264"), Sniffed("video/x-matroska", "mkv", "video")),
    ("webm", lambda: video("webm", "libvpx"), Sniffed("video/webm", "webm", "video")),
    ("avi", lambda: video("avi", "mpeg4"), Sniffed("video/x-msvideo", "avi", "video")),
    (
        "mp3 with ID3",
        lambda: audio("mp3", "libmp3lame", rate=44_100),
        Sniffed("audio/mpeg", "mp3", "audio"),
    ),
    (
        "mp3 bare",
        lambda: audio("mp3", "libmp3lame", rate=44_100, id3v2_version="0"),
        Sniffed("audio/mpeg", "mp3", "audio"),
    ),
    ("wav", lambda: audio("wav", "pcm_s16le"), Sniffed("audio/wav", "wav", "audio")),
    ("flac", lambda: audio("flac", "flac"), Sniffed("audio/flac", "flac", "audio")),
    ("ogg opus", lambda: audio("ogg", "libopus"), Sniffed("audio/ogg", "ogg", "audio")),
    ("m4a", lambda: audio("ipod", "aac"), Sniffed("audio/mp4", "m4a", "audio")),
    ("aac adts", lambda: audio("adts", "aac"), Sniffed("audio/aac", "aac", "audio")),
]


@pytest.mark.parametrize(
    ("make", "expected"),
    [(make, expected) for _, make, expected in REAL_FILES],
    ids=[name for name, _, _ in REAL_FILES],
)
def test_real_files(make: Callable[[], bytes], expected: Sniffed) -> None:
    data = make()
    assert len(data) > HEAD_BYTES  # so the head really is a prefix, not the whole file
    assert sniff(data[:HEAD_BYTES]) == expected
    assert sniff(data) == expected  # more bytes never change the answer


def test_the_decoders_agree_with_the_sniffed_format() -> None:
    # Guards the fixtures themselves: the files above are what they claim to be.
    assert Image.open(io.BytesIO(image("WEBP"))).format == "WEBP"
    with av.open(io.BytesIO(video("webm", "libvpx"))) as container:
        assert "webm" in container.format.name
        assert container.streams.video[0].codec_context.name == "vp8"


def test_extensions_are_lower_case_registry_names() -> None:
    # RunningHub's registry spells formats in upper case in `accept` lists; ours match them.
    registry_names = {"png", "jpg", "jpeg", "webp", "gif", "bmp", "tiff", "mp4", "mov", "avi"}
    registry_names |= {"webm", "mp3", "wav", "m4a", "aac", "flac", "ogg"}
    for _, _, expected in REAL_FILES:
        assert expected.extension == expected.extension.lower()
        if expected.extension not in {"avif", "mkv"}:
            assert expected.extension in registry_names


# --------------------------------------------------------------------------------------------
# Hand-made heads for what is not cheap to produce
# --------------------------------------------------------------------------------------------


def pad(head: bytes) -> bytes:
    return head + bytes(max(0, HEAD_BYTES - len(head)))


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return pad(struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\x00\x00\x00\x08free")


def id3(body_size: int) -> bytes:
    size = bytes((body_size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    return b"ID3\x04\x00\x00" + size + bytes(body_size)


def ogg_page(packet: bytes) -> bytes:
    header = b"OggS\x00\x02" + bytes(8) + b"\x01\x00\x00\x00" + bytes(8)
    return pad(header + bytes([1, len(packet)]) + packet)


HEIC = Sniffed("image/heic", "heic", "image")
AVIF = Sniffed("image/avif", "avif", "image")
MP4 = Sniffed("video/mp4", "mp4", "video")
MOV = Sniffed("video/quicktime", "mov", "video")
M4A = Sniffed("audio/mp4", "m4a", "audio")
MKV = Sniffed("video/x-matroska", "mkv", "video")
MP3 = Sniffed("audio/mpeg", "mp3", "audio")
AAC = Sniffed("audio/aac", "aac", "audio")
FLAC = Sniffed("audio/flac", "flac", "audio")
ADTS_HEAD = b"\xff\xf1\x50\x80\x02\x1f\xfc"

HANDMADE: list[tuple[str, bytes, Sniffed]] = [
    ("heic", ftyp(b"heic", b"mif1", b"heic"), HEIC),
    ("heif with heic brand", ftyp(b"mif1", b"miaf", b"heic"), HEIC),
    ("heif with avif brand", ftyp(b"mif1", b"avif"), AVIF),
    ("heif generic", ftyp(b"mif1", b"mif1"), Sniffed("image/heif", "heif", "image")),
    ("mp4 mp42", ftyp(b"mp42", b"mp42", b"isom"), MP4),
    ("mp4 avc1", ftyp(b"avc1", b"iso2"), MP4),
    ("mp4 unknown major", ftyp(b"zzzz", b"isom"), MP4),
    ("m4a by compatible brand", ftyp(b"mp42", b"isom", b"M4A "), M4A),
    ("3gp", ftyp(b"3gp5", b"isom"), Sniffed("video/3gpp", "3gp", "video")),
    ("quicktime without ftyp", pad(b"\x00\x00\x00\x08wide\x00\x01\x00\x00mdat"), MOV),
    ("tiff big-endian", pad(b"MM\x00*\x00\x00\x00\x08"), Sniffed("image/tiff", "tiff", "image")),
    ("bigtiff", pad(b"II+\x00\x08\x00\x00\x00"), Sniffed("image/tiff", "tiff", "image")),
    ("wav rf64", pad(b"RF64\xff\xff\xff\xffWAVEds64"), Sniffed("audio/wav", "wav", "audio")),
    ("ogg theora", ogg_page(b"\x80theora\x03\x02\x01"), Sniffed("video/ogg", "ogv", "video")),
    ("ogg vorbis", ogg_page(b"\x01vorbis\x00\x00\x00\x00"), Sniffed("audio/ogg", "ogg", "audio")),
    ("mpeg layer iii", pad(b"\xff\xfb\x90\x64"), MP3),
    ("mpeg-2 layer iii", pad(b"\xff\xf3\x90\xc4"), MP3),
    ("mpeg layer ii", pad(b"\xff\xfd\x94\x00"), MP3),
    ("adts mpeg-4", pad(ADTS_HEAD), AAC),
    ("adts mpeg-2", pad(b"\xff\xf9\x50\x80\x02\x1f\xfc"), AAC),
    ("id3 then flac", pad(id3(4) + b"fLaC\x00\x00\x00\x22"), FLAC),
    ("id3 then adts", pad(id3(4) + ADTS_HEAD), AAC),
    ("id3 larger than the head", id3(4096)[:HEAD_BYTES], MP3),
    ("id3 then unknown bytes", pad(id3(2) + b"hello world"), MP3),
    # A Matroska head cut before its DocType: Matroska is the general case.
    ("ebml without doctype in head", b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\xf7", MKV),
]


@pytest.mark.parametrize(
    ("head", "expected"),
    [(head, expected) for _, head, expected in HANDMADE],
    ids=[name for name, _, _ in HANDMADE],
)
def test_handmade_heads(head: bytes, expected: Sniffed) -> None:
    assert sniff(head) == expected


# --------------------------------------------------------------------------------------------
# Not media
# --------------------------------------------------------------------------------------------

HTML = b"<!DOCTYPE html><html><head><title>x</title></head><body><script>alert(1)</script>"

NOT_MEDIA: list[tuple[str, bytes]] = [
    ("empty", b""),
    ("text", b"Just some plain text that someone uploaded as an image, for fun.\n"),
    ("html", HTML),
    ("svg", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'),
    ("json", b'{"prompt": "a cat", "seed": 42, "width": 1024, "height": 1024}'),
    ("pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"),
    ("zip", b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(54)),
    ("glb", b"glTF\x02\x00\x00\x00" + bytes(56)),
    ("truncated png signature", b"\x89PNG\r\n"),
    ("bm text", b"BMW builds cars; this text merely starts with the letters B and M."),
    ("id3 in prose", b"ID3 tags describe MP3 files; this sentence is not one of them."),
    ("riff of another form", pad(b"RIFF\x10\x00\x00\x00CDDAfmt ")),
    ("riff too short", b"RIFF\x10\x00"),
    ("ftyp of a raw camera file", ftyp(b"crx ", b"crx ")),
    ("ftyp with a nonsense size", pad(b"\x00\x00\x00\x03ftypisom")),
    ("sync word with reserved layer", pad(b"\xff\xe0\x90\x64")),
    ("sync word with bad bitrate", pad(b"\xff\xfb\xf0\x64")),
    ("sync word with reserved version", pad(b"\xff\xeb\x90\x64")),
    ("adts with bad sample rate", pad(b"\xff\xf1\x3c\x80\x02\x1f\xfc")),
]


@pytest.mark.parametrize(("head"), [head for _, head in NOT_MEDIA], ids=[n for n, _ in NOT_MEDIA])
def test_not_media(head: bytes) -> None:
    assert sniff(head) is None


def test_an_html_file_named_png_is_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "innocent.png"
    path.write_bytes(HTML * 4)
    with path.open("rb") as file:
        assert sniff(file.read(HEAD_BYTES)) is None


def test_random_bytes() -> None:
    # Deterministic: a sync-word false positive is possible for ~1 in 7000 random heads (two
    # bytes of frame header are all there is to check), and none of these seeds hits one.
    hits = [seed for seed in range(1000) if sniff(random.Random(seed).randbytes(HEAD_BYTES))]
    assert hits == []


@pytest.mark.parametrize("length", range(HEAD_BYTES))
def test_every_prefix_of_a_real_head_is_safe(length: int) -> None:
    # Short inputs (a tiny file) must give an answer or None, never an exception.
    for _, make, expected in REAL_FILES[:1] + REAL_FILES[7:12]:
        result = sniff(make()[:length])
        assert result is None or result.media == expected.media
