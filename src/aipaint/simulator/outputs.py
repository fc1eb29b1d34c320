"""Real, playable output files for simulated RunningHub tasks.

The simulator must hand out files that browsers, the archiver and our own probes accept exactly
like RunningHub's, so every output here is a genuine PNG / H.264 MP4 / MP3 / GLB rather than a
placeholder blob. Everything is a pure function of ``(params, seed)`` so tests can compare bytes,
and every renderer is tuned to be fast (tens of milliseconds) because tests, the demo mode and
benchmarks render thousands of these.
"""

from __future__ import annotations

import colorsys
import io
import json
import math
import random
import re
import struct
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any, Final, Literal, TypeVar

import av
from PIL import Image, ImageDraw, ImageFont

__all__ = ["OutputFile", "image_size", "render", "text_output", "video_size"]


@dataclass(frozen=True)
class OutputFile:
    """One generated output file, described the way RunningHub's task result describes it."""

    data: bytes
    extension: str  # RunningHub's `outputType`: "png", "mp4", "mp3", "glb"
    content_type: str  # MIME type the simulator serves the file with


# --------------------------------------------------------------------------------------------
# Requested sizes
# --------------------------------------------------------------------------------------------

MIN_SIDE: Final = 64
MAX_SIDE: Final = 4096  # RunningHub accepts up to 8192; capped so one simulated image stays cheap
DEFAULT_LONG_SIDE: Final = 1024
_SIZE_STEP: Final = 8  # derived sizes snap to the 8-px grid that diffusion models produce

# Video is rendered small on purpose: the simulator needs a real, playable H.264 file, not a
# faithful 1080p one, and encoding 4K frames would make every simulated video task take seconds.
VIDEO_MAX_LONG_SIDE: Final = 640
VIDEO_FPS: Final = 12
# One second regardless of the `duration` param: duration only scales encode time, and nothing
# that consumes simulator output (UI preview, archiver, probes) depends on the clip length.
VIDEO_FRAMES: Final = VIDEO_FPS

AUDIO_SAMPLE_RATE: Final = 44_100
AUDIO_SECONDS: Final = 1.0

DEFAULT_PROMPT: Final = "aipaint simulator"
CAPTION: Final = "RunningHub simulator"

# Catalog params that may carry an explicit "W*H" / "WxH" size. `resolution` holds one for
# wan-2.6 video ("1280*720") and `aspectRatio` for a few image models ("960x960").
_DIMENSION_KEYS: Final = ("size", "resolution", "aspectRatio", "ratio")
_RATIO_KEYS: Final = ("aspectRatio", "ratio", "size")
_TIER_KEYS: Final = ("resolution", "size", "targetResolution")

_DIMENSIONS_RE: Final = re.compile(r"^\s*(\d{1,5})\s*[x*×X]\s*(\d{1,5})\s*$")
_RATIO_RE: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$")
# "1k".."8k" name the long side in units of 1024 px; "480p"/"1080P"/"native1080p" name the
# short side in pixels, as in video.
_TIER_RE: Final = re.compile(r"^\s*(?:native)?(\d{1,4})\s*([kp])\s*$", re.IGNORECASE)

_Tier = tuple[Literal["long", "short"], int]
_T = TypeVar("_T")


def _as_int(value: Any) -> int | None:
    """A positive int from an int or a digit string; bools and junk are not sizes."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, float) and value.is_integer():
        return int(value) if value > 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
        return number if number > 0 else None
    return None


def _parse_dimensions(value: Any) -> tuple[int, int] | None:
    if not isinstance(value, str):
        return None
    match = _DIMENSIONS_RE.match(value)
    if match is None:
        return None
    width, height = int(match.group(1)), int(match.group(2))
    return (width, height) if width > 0 and height > 0 else None


def _parse_ratio(value: Any) -> tuple[float, float] | None:
    if not isinstance(value, str):
        return None  # "auto", "adaptive", "empty" and missing values mean "no preference"
    match = _RATIO_RE.match(value)
    if match is None:
        return None
    across, down = float(match.group(1)), float(match.group(2))
    return (across, down) if across > 0 and down > 0 else None


def _parse_tier(value: Any) -> _Tier | None:
    if not isinstance(value, str):
        return None
    match = _TIER_RE.match(value)
    if match is None:
        return None
    number, unit = int(match.group(1)), match.group(2).lower()
    if number <= 0:
        return None
    return ("long", number * 1024) if unit == "k" else ("short", number)


def _first(
    params: Mapping[str, Any], keys: tuple[str, ...], parse: Callable[[Any], _T | None]
) -> _T | None:
    """The first of ``keys`` whose value ``parse`` understands."""
    for key in keys:
        parsed = parse(params.get(key))
        if parsed is not None:
            return parsed
    return None


def _clamp(side: int) -> int:
    return max(MIN_SIDE, min(MAX_SIDE, side))


def _snap(side: float) -> int:
    """Round a derived side to the size grid, then clamp it."""
    return _clamp(max(1, round(side / _SIZE_STEP)) * _SIZE_STEP)


def _from_ratio(
    ratio: tuple[float, float], *, long_side: float | None = None, short_side: float | None = None
) -> tuple[int, int]:
    across, down = ratio
    if long_side is None:
        assert short_side is not None
        long_side = short_side * max(across, down) / min(across, down)
    # Cap before deriving the short side so an oversized tier ("8k") keeps its aspect ratio.
    long_side = min(long_side, MAX_SIDE)
    if across >= down:
        return _snap(long_side), _snap(long_side * down / across)
    return _snap(long_side * across / down), _snap(long_side)


def _requested_size(
    params: Mapping[str, Any], default_ratio: tuple[float, float]
) -> tuple[int, int]:
    width, height = _as_int(params.get("width")), _as_int(params.get("height"))
    if width is not None and height is not None:
        return _clamp(width), _clamp(height)
    dimensions = _first(params, _DIMENSION_KEYS, _parse_dimensions)
    if dimensions is not None:
        return _clamp(dimensions[0]), _clamp(dimensions[1])

    ratio = _first(params, _RATIO_KEYS, _parse_ratio)
    if width is not None or height is not None:
        # One stated side is honoured exactly; the other follows the ratio (square by default).
        across, down = ratio or (1.0, 1.0)
        if width is not None:
            return _clamp(width), _snap(width * down / across)
        assert height is not None
        return _snap(height * across / down), _clamp(height)

    ratio = ratio or default_ratio  # "auto"/"adaptive" follow the input image we never see
    long_edge = _as_int(params.get("longEdgeSize"))  # image-enhance models; -1 means "no limit"
    if long_edge is not None:
        return _from_ratio(ratio, long_side=long_edge)
    short_edge = _as_int(params.get("shortEdgeSize"))
    if short_edge is not None:
        return _from_ratio(ratio, short_side=short_edge)
    tier = _first(params, _TIER_KEYS, _parse_tier)
    if tier is None:
        return _from_ratio(ratio, long_side=DEFAULT_LONG_SIDE)
    kind, pixels = tier
    if kind == "long":
        return _from_ratio(ratio, long_side=pixels)
    return _from_ratio(ratio, short_side=pixels)


def image_size(params: Mapping[str, Any]) -> tuple[int, int]:
    """The (width, height) the user asked for, read from the params RunningHub models use.

    Precedence: explicit ``width`` + ``height``; then a "W*H"/"WxH" value; then an aspect ratio
    (plus a ``resolution`` tier such as "2K" or "1080p") at a 1024-px long side by default.
    Stated sizes are honoured exactly (only clamped to [64, 4096]); derived ones also snap to 8 px.
    """
    return _requested_size(params, default_ratio=(1.0, 1.0))


def video_size(params: Mapping[str, Any]) -> tuple[int, int]:
    """The requested video aspect at a small, even, H.264-friendly size (long side <= 640).

    Without any size hint video defaults to 16:9, the most common default in the catalog.
    """
    width, height = _requested_size(params, default_ratio=(16.0, 9.0))
    scale = min(1.0, VIDEO_MAX_LONG_SIDE / max(width, height))
    # yuv420p subsamples chroma 2x2, so libx264 needs even dimensions.
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


# --------------------------------------------------------------------------------------------
# Shared picture: seeded gradient, wrapped prompt, caption
# --------------------------------------------------------------------------------------------

_MAX_DRAWN_CHARS: Final = 400
_FIELD_SIDE: Final = 32  # the gradient is computed on a tiny grid and upscaled: smooth and fast


def _prompt(params: Mapping[str, Any]) -> str:
    for key in ("prompt", "textPrompt", "text"):
        value = params.get(key)
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())
    return DEFAULT_PROMPT


def _palette(seed: int) -> tuple[tuple[int, int, int], ...]:
    """Three analogous, mid-dark colours so white text stays readable on any seed."""
    rng = random.Random(seed)
    hue = rng.random()
    spread = rng.uniform(0.08, 0.22)
    colours = []
    for offset, lightness, saturation in (
        (0.0, 0.32, 0.65),
        (spread, 0.45, 0.7),
        (-spread, 0.6, 0.75),
    ):
        red, green, blue = colorsys.hls_to_rgb((hue + offset) % 1.0, lightness, saturation)
        colours.append((round(red * 255), round(green * 255), round(blue * 255)))
    return tuple(colours)


def _background(size: tuple[int, int], seed: int) -> Image.Image:
    """A diagonal two-colour gradient with a soft glow of a third colour, all from the seed."""
    start, end, glow = _palette(seed)
    rng = random.Random(seed ^ 0x5EED)
    angle = rng.uniform(0.0, 2 * math.pi)
    glow_x, glow_y = rng.uniform(0.2, 0.8), rng.uniform(0.15, 0.55)
    dx, dy = math.cos(angle), math.sin(angle)
    last = _FIELD_SIDE - 1
    field = bytearray()
    for row in range(_FIELD_SIDE):
        v = row / last
        for column in range(_FIELD_SIDE):
            u = column / last
            t = min(1.0, max(0.0, 0.5 + ((u - 0.5) * dx + (v - 0.5) * dy) * 0.9))
            g = max(0.0, 1.0 - math.hypot(u - glow_x, v - glow_y) / 0.6) ** 2 * 0.55
            for channel in range(3):
                base = start[channel] + (end[channel] - start[channel]) * t
                field.append(round(base + (glow[channel] - base) * g))
    small = Image.frombytes("RGB", (_FIELD_SIDE, _FIELD_SIDE), bytes(field))
    return small.resize(size, Image.Resampling.BILINEAR)


@lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's bundled font keeps renders identical on every machine; it has no CJK glyphs, so
    # Chinese prompts show as boxes, which is acceptable for a simulator. Sharing the cached
    # FT_Face across threads is safe only because Pillow holds the GIL while using it.
    return ImageFont.load_default(size=size)


def _text_width(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, text: str) -> float:
    return float(font.getlength(text))


def _wrap(
    text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, max_width: float, max_lines: int
) -> tuple[list[str], bool]:
    """Greedy word wrap that also breaks space-less runs (Chinese, URLs); stops at max_lines.

    Returns the lines and whether text was left over.
    """
    # Line widths are summed from word widths (one measurement per word, not per candidate
    # line); kerning across spaces is negligible next to the card's margins.
    space = _text_width(font, " ")
    lines: list[str] = []
    current, current_width = "", 0.0
    words = text.split(" ")
    for index, word in enumerate(words):
        word_width = _text_width(font, word)
        if current and current_width + space + word_width <= max_width:
            current, current_width = f"{current} {word}", current_width + space + word_width
            continue
        if not current and word_width <= max_width:
            current, current_width = word, word_width
            continue
        if current:
            lines.append(current)
        while word_width > max_width and len(lines) < max_lines:
            cut = _fitting_prefix(word, font, max_width)
            lines.append(word[:cut])
            word = word[cut:]
            word_width = _text_width(font, word)
        current, current_width = word, word_width
        if len(lines) >= max_lines:
            leftover = bool(current) or index < len(words) - 1
            return lines[:max_lines], leftover
    if current:
        lines.append(current)
    return lines[:max_lines], len(lines) > max_lines


def _fitting_prefix(
    word: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, max_width: float
) -> int:
    """Length of the longest prefix of ``word`` that fits (at least one character)."""
    low, high = 1, len(word)
    while low < high:
        middle = (low + high + 1) // 2
        if _text_width(font, word[:middle]) <= max_width:
            low = middle
        else:
            high = middle - 1
    return low


def _ellipsize(
    line: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, max_width: float
) -> str:
    while line and _text_width(font, line + "…") > max_width:
        line = line[:-1]
    return line.rstrip() + "…"


def _layout_prompt(
    prompt: str, width: int, height: int
) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, int, list[str]]:
    """Pick the largest font (down from ~1/18 of the width) at which the prompt fits the card."""
    if len(prompt) > _MAX_DRAWN_CHARS:  # past this the text is too small to read anyway
        prompt = prompt[: _MAX_DRAWN_CHARS - 1] + "…"
    max_width = width * 0.76
    max_height = height * 0.6
    # Start near the size at which the text area fills the card (a glyph averages ~0.5 em wide,
    # a line is 1.3 em tall) instead of shrinking step by step from the largest size.
    fill_size = math.sqrt(max_width * max_height / (max(1, len(prompt)) * 0.5 * 1.3))
    size = max(10, round(min(min(width, height * 1.4) / 18, fill_size * 1.15)))
    while True:
        font = _font(size)
        line_height = round(size * 1.3)
        max_lines = max(1, int(max_height // line_height))
        lines, leftover = _wrap(prompt, font, max_width, max_lines)
        if not leftover:
            return font, line_height, lines
        if size <= 12:
            lines[-1] = _ellipsize(lines[-1], font, max_width)
            return font, line_height, lines
        size = max(12, round(size * 0.8))


def _picture(size: tuple[int, int], prompt: str, seed: int) -> Image.Image:
    width, height = size
    image = _background(size, seed)
    draw = ImageDraw.Draw(image, "RGBA")  # RGBA mode blends translucent fills onto RGB

    font, line_height, lines = _layout_prompt(prompt, width, height)
    block_height = line_height * len(lines)
    text_width = max(_text_width(font, line) for line in lines)
    pad = max(6, round(line_height * 0.6))
    top = round((height - block_height) * 0.42)
    left = round((width - text_width) / 2)
    draw.rounded_rectangle(
        (left - pad, top - pad, left + text_width + pad, top + block_height + pad * 0.6),
        radius=pad,
        fill=(0, 0, 0, 96),
    )
    for number, line in enumerate(lines):
        line_left = round((width - _text_width(font, line)) / 2)
        draw.text((line_left, top + number * line_height), line, font=font, fill=(255, 255, 255))

    caption_font = _font(max(11, round(min(width, height) / 48)))
    margin = max(4, round(min(width, height) / 40))
    caption_width = _text_width(caption_font, CAPTION)
    caption_height = caption_font.getbbox(CAPTION)[3]
    draw.text(
        (width - margin - caption_width, height - margin - caption_height),
        CAPTION,
        font=caption_font,
        fill=(255, 255, 255, 190),
    )
    return image


# --------------------------------------------------------------------------------------------
# Padding helpers (benchmarks need 20 MB / 200 MB outputs that still decode)
# --------------------------------------------------------------------------------------------

_FILLER_BLOCK: Final = 16 * 1024 * 1024  # padding is emitted as views of one zero block


def _zeros(count: int, block: bytes | None = None) -> list[bytes | memoryview]:
    """``count`` zero bytes as a list of parts that share a single block of at most 16 MiB."""
    if count <= 0:
        return []
    if not block:
        block = bytes(min(count, _FILLER_BLOCK))
    full, rest = divmod(count, len(block))
    parts: list[bytes | memoryview] = [block] * full
    if rest:
        parts.append(memoryview(block)[:rest])
    return parts


def _check_pad(pad_to_bytes: int | None) -> int:
    if pad_to_bytes is None:
        return 0
    if pad_to_bytes < 0:
        raise ValueError(f"pad_to_bytes must be >= 0, got {pad_to_bytes}")
    return pad_to_bytes


# --------------------------------------------------------------------------------------------
# PNG
# --------------------------------------------------------------------------------------------

_PNG_IEND_LENGTH: Final = 12
# Private ("h" lower-case), ancillary ("r" lower-case), safe-to-copy ("m" lower-case) chunk:
# every decoder must skip it, so it can carry any amount of filler.
_PNG_FILLER_TYPE: Final = b"rhSm"


def _png(params: Mapping[str, Any], seed: int, pad_to_bytes: int) -> bytes:
    image = _picture(image_size(params), _prompt(params), seed)
    buffer = io.BytesIO()
    # compress_level=1: a smooth gradient barely shrinks at higher levels but costs 3-5x the time.
    image.save(buffer, format="PNG", compress_level=1)
    png = buffer.getvalue()
    need = pad_to_bytes - len(png)
    if need <= 0:
        return png

    block = bytes(min(need, _FILLER_BLOCK))
    crc_cache: dict[int, int] = {}
    chunks: list[bytes | memoryview] = []
    while need > 0:
        length = min(max(need - 12, 0), len(block))
        if length not in crc_cache:
            crc_cache[length] = zlib.crc32(memoryview(block)[:length], zlib.crc32(_PNG_FILLER_TYPE))
        chunks += [struct.pack(">I", length), _PNG_FILLER_TYPE]
        chunks += _zeros(length, block)
        chunks.append(struct.pack(">I", crc_cache[length]))
        need -= length + 12
    # The filler goes just before IEND, which must stay the last chunk.
    head, iend = memoryview(png)[:-_PNG_IEND_LENGTH], memoryview(png)[-_PNG_IEND_LENGTH:]
    return b"".join([head, *chunks, iend])


# --------------------------------------------------------------------------------------------
# MP4
# --------------------------------------------------------------------------------------------

_AVIO_FLAG_WRITE: Final = 2  # libavformat's AVIO_FLAG_WRITE


def _mp4(params: Mapping[str, Any], seed: int, pad_to_bytes: int) -> bytes:
    width, height = video_size(params)
    base = _picture((width, height), _prompt(params), seed)
    bar_width = max(4, width // 6)
    bar_height = max(2, height // 40)
    bar_top = height - max(4, height // 10)
    buffer = io.BytesIO()

    def reopen_for_reading(url: str, flags: int, options: dict[str, str]) -> io.BytesIO:
        # +faststart re-opens the output by name to read back the data it shifts behind moov;
        # an in-memory output has no name, so hand it a snapshot (the muxer flushes first).
        if flags & _AVIO_FLAG_WRITE:
            raise ValueError(f"the mp4 muxer unexpectedly opened {url!r} for writing")
        return io.BytesIO(buffer.getvalue())

    # +faststart moves the moov atom before mdat so browsers can start playing before the end.
    with av.open(
        buffer,
        mode="w",
        format="mp4",
        container_options={"movflags": "+faststart"},
        io_open=reopen_for_reading,
    ) as container:
        stream = container.add_stream(
            "libx264",
            rate=VIDEO_FPS,
            options={"preset": "veryfast", "crf": "28", "tune": "stillimage"},
        )
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        for index in range(VIDEO_FRAMES):
            picture = base.copy()
            draw = ImageDraw.Draw(picture, "RGBA")
            draw.rectangle((0, bar_top, width, bar_top + bar_height), fill=(255, 255, 255, 60))
            left = round((width - bar_width) * index / max(1, VIDEO_FRAMES - 1))
            draw.rectangle(
                (left, bar_top, left + bar_width, bar_top + bar_height), fill=(255, 255, 255)
            )
            # PyAV types from_bytes (from_image is untyped) and it takes RGBA, not RGB.
            rgba = picture.convert("RGBA").tobytes()
            frame = av.VideoFrame.from_bytes(rgba, width, height, format="rgba")
            frame.pts = index
            frame.time_base = Fraction(1, VIDEO_FPS)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    mp4 = buffer.getvalue()
    need = pad_to_bytes - len(mp4)
    if need <= 0:
        return mp4
    # A top-level "free" box is skipped by every ISO-BMFF reader; use the 64-bit form past 4 GiB.
    if max(need, 8) <= 0xFFFFFFFF:
        header = struct.pack(">I4s", max(need, 8), b"free")
    else:
        header = struct.pack(">I4sQ", 1, b"free", need)
    return b"".join([mp4, header, *_zeros(need - len(header))])


# --------------------------------------------------------------------------------------------
# MP3
# --------------------------------------------------------------------------------------------

# A-minor pentatonic notes from A3 to A5 (semitones above 220 Hz), so every seed sounds pleasant.
_NOTES_HZ: Final = tuple(
    220.0 * 2 ** (step / 12) for step in (0, 3, 5, 7, 10, 12, 15, 17, 19, 22, 24)
)
_ID3_MAX_BODY: Final = (1 << 28) - 1  # ID3v2 sizes are 28-bit "syncsafe" integers
_ID3_SOFTWARE: Final = "aipaint RunningHub simulator"


def _tone(seed: int) -> bytes:
    """One second of signed 16-bit mono sine with 10 ms fades (no clicks at start/end)."""
    frequency = _NOTES_HZ[random.Random(seed).randrange(len(_NOTES_HZ))]
    count = round(AUDIO_SAMPLE_RATE * AUDIO_SECONDS)
    fade = AUDIO_SAMPLE_RATE // 100
    step = 2 * math.pi * frequency / AUDIO_SAMPLE_RATE
    samples = [
        round(9000 * math.sin(step * i) * min(1.0, i / fade, (count - 1 - i) / fade))
        for i in range(count)
    ]
    return struct.pack(f"<{count}h", *samples)


def _syncsafe(value: int) -> bytes:
    return bytes(((value >> shift) & 0x7F) for shift in (21, 14, 7, 0))


def _id3v2_tags(total: int) -> list[bytes | memoryview]:
    """ID3v2.4 tags adding up to at least ``total`` bytes: each a TSSE frame (a tag needs one
    frame) plus zero padding, which every MP3 reader skips without parsing.

    One tag holds at most 256 MiB, so larger pads chain several tags; ffmpeg skips consecutive
    tags (tested), though some players only skip the first. Zeros after the last MPEG frame are
    no alternative: ffmpeg's decoder rejects them as invalid data.
    """
    text = b"\x03" + _ID3_SOFTWARE.encode()  # 0x03 = UTF-8
    frame = b"TSSE" + _syncsafe(len(text)) + b"\x00\x00" + text
    block = bytes(min(max(total, 0), _FILLER_BLOCK))
    parts: list[bytes | memoryview] = []
    remaining = total
    while True:
        body = min(max(remaining - 10, len(frame)), _ID3_MAX_BODY)
        parts += [b"ID3\x04\x00\x00" + _syncsafe(body), frame, *_zeros(body - len(frame), block)]
        remaining -= 10 + body
        if remaining <= 0:
            return parts


def _mp3(seed: int, pad_to_bytes: int) -> bytes:
    pcm = _tone(seed)
    frame = av.AudioFrame(format="s16", layout="mono", samples=len(pcm) // 2)
    frame.planes[0].update(pcm)
    frame.sample_rate = AUDIO_SAMPLE_RATE
    frame.pts = 0
    frame.time_base = Fraction(1, AUDIO_SAMPLE_RATE)
    buffer = io.BytesIO()
    # The muxer's own ID3 tag would embed the libavformat version; we write our own when padding.
    with av.open(buffer, mode="w", format="mp3", container_options={"id3v2_version": "0"}) as out:
        stream = out.add_stream("libmp3lame", rate=AUDIO_SAMPLE_RATE)
        stream.layout = "mono"
        stream.bit_rate = 96_000
        out.mux(stream.encode(frame))  # PyAV re-chunks into 1152-sample MPEG frames
        out.mux(stream.encode(None))
    mp3 = buffer.getvalue()
    if pad_to_bytes <= len(mp3):
        return mp3
    # Tags go first: ID3v2 is defined at the start of the file, where every reader looks for it.
    return b"".join([*_id3v2_tags(pad_to_bytes - len(mp3)), mp3])


# --------------------------------------------------------------------------------------------
# GLB
# --------------------------------------------------------------------------------------------

_GLB_MAGIC: Final = 0x46546C67  # "glTF" little-endian
_GLB_JSON: Final = 0x4E4F534A
_GLB_BIN: Final = 0x004E4942
_ARRAY_BUFFER: Final = 34962
_ELEMENT_ARRAY_BUFFER: Final = 34963
_FLOAT: Final = 5126
_UNSIGNED_SHORT: Final = 5123

# Unit cube centred on the origin. Vertex i sits at (+/-0.5) with x, y, z from bits 0, 1, 2.
_CUBE_POSITIONS: Final = tuple(
    (0.5 if i & 1 else -0.5, 0.5 if i & 2 else -0.5, 0.5 if i & 4 else -0.5) for i in range(8)
)
# Two triangles per face, counter-clockwise seen from outside (glTF front faces).
_CUBE_INDICES: Final = (
    1, 3, 7, 1, 7, 5,  # +X
    0, 4, 6, 0, 6, 2,  # -X
    2, 6, 7, 2, 7, 3,  # +Y
    0, 1, 5, 0, 5, 4,  # -Y
    4, 5, 7, 4, 7, 6,  # +Z
    0, 2, 3, 0, 3, 1,  # -Z
)  # fmt: skip


def _align4(length: int) -> int:
    return (length + 3) & ~3


def _glb(params: Mapping[str, Any], seed: int, pad_to_bytes: int) -> bytes:
    indices = struct.pack(f"<{len(_CUBE_INDICES)}H", *_CUBE_INDICES)
    positions = b"".join(struct.pack("<3f", *vertex) for vertex in _CUBE_POSITIONS)
    positions_offset = _align4(len(indices))  # float accessors need 4-byte-aligned offsets
    geometry = indices + bytes(positions_offset - len(indices)) + positions
    red, green, blue = (channel / 255 for channel in _palette(seed)[1])

    def document(buffer_length: int) -> bytes:
        gltf = {
            "asset": {
                "version": "2.0",
                "generator": "aipaint RunningHub simulator",
                "extras": {"prompt": _prompt(params), "seed": seed},
            },
            "scene": 0,
            "scenes": [{"nodes": [0]}],
            "nodes": [{"mesh": 0, "name": "cube"}],
            "meshes": [
                {"primitives": [{"attributes": {"POSITION": 1}, "indices": 0, "material": 0}]}
            ],
            "materials": [
                {
                    "pbrMetallicRoughness": {
                        "baseColorFactor": [round(red, 4), round(green, 4), round(blue, 4), 1.0],
                        "metallicFactor": 0.0,
                        "roughnessFactor": 0.8,
                    }
                }
            ],
            "buffers": [{"byteLength": buffer_length}],
            "bufferViews": [
                {
                    "buffer": 0,
                    "byteOffset": 0,
                    "byteLength": len(indices),
                    "target": _ELEMENT_ARRAY_BUFFER,
                },
                {
                    "buffer": 0,
                    "byteOffset": positions_offset,
                    "byteLength": len(positions),
                    "target": _ARRAY_BUFFER,
                },
            ],
            "accessors": [
                {
                    "bufferView": 0,
                    "componentType": _UNSIGNED_SHORT,
                    "count": len(_CUBE_INDICES),
                    "type": "SCALAR",
                    "min": [min(_CUBE_INDICES)],
                    "max": [max(_CUBE_INDICES)],
                },
                {
                    "bufferView": 1,
                    "componentType": _FLOAT,
                    "count": len(_CUBE_POSITIONS),
                    "type": "VEC3",
                    "min": [min(vertex[axis] for vertex in _CUBE_POSITIONS) for axis in range(3)],
                    "max": [max(vertex[axis] for vertex in _CUBE_POSITIONS) for axis in range(3)],
                },
            ],
        }
        raw = json.dumps(gltf, ensure_ascii=False, separators=(",", ":")).encode()
        return raw + b" " * (_align4(len(raw)) - len(raw))  # JSON chunk pads with spaces

    # The padded BIN length shows up in the JSON (byteLength), whose length moves the total;
    # iterate until the digit count settles (at most a couple of rounds).
    bin_length = _align4(len(geometry))
    while True:
        json_chunk = document(bin_length)
        total = 12 + 8 + len(json_chunk) + 8 + bin_length
        if total >= pad_to_bytes:
            break
        bin_length = _align4(bin_length + pad_to_bytes - total)
    if total > 0xFFFFFFFF:
        raise ValueError(f"a GLB file cannot exceed 4 GiB, asked for {pad_to_bytes} bytes")
    return b"".join(
        [
            struct.pack("<III", _GLB_MAGIC, 2, total),
            struct.pack("<II", len(json_chunk), _GLB_JSON),
            json_chunk,
            struct.pack("<II", bin_length, _GLB_BIN),
            geometry,
            *_zeros(bin_length - len(geometry)),
        ]
    )


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------


def render(
    output_type: str, params: Mapping[str, Any], *, seed: int, pad_to_bytes: int | None = None
) -> OutputFile:
    """A real output file for a catalog model whose ``output_type`` is image/video/audio/3d.

    ``pad_to_bytes`` makes the file at least that large while keeping it decodable.
    Text models have no file: use :func:`text_output`.
    """
    pad = _check_pad(pad_to_bytes)
    kind = output_type.lower()
    if kind == "image":
        return OutputFile(_png(params, seed, pad), "png", "image/png")
    if kind == "video":
        return OutputFile(_mp4(params, seed, pad), "mp4", "video/mp4")
    if kind == "audio":
        return OutputFile(_mp3(seed, pad), "mp3", "audio/mpeg")
    if kind == "3d":
        return OutputFile(_glb(params, seed, pad), "glb", "model/gltf-binary")
    if kind == "text":
        raise ValueError("text models produce text, not a file: use text_output()")
    raise ValueError(f"unknown output type {output_type!r}")


_TEXT_OPENERS: Final = (
    "Here is a simulated answer.",
    "Simulated response follows.",
    "This reply comes from the RunningHub simulator.",
    "Stand-in output from the RunningHub simulator.",
)


def text_output(params: Mapping[str, Any], *, seed: int) -> str:
    """Deterministic stand-in text for text models (captioning, chat, video-to-text)."""
    opener = _TEXT_OPENERS[random.Random(seed).randrange(len(_TEXT_OPENERS))]
    prompt = _prompt(params)
    if len(prompt) > 200:
        prompt = prompt[:199] + "…"
    return f'{opener} Prompt: "{prompt}" (seed {seed}).'
