"""Whether a file really is the image, video or audio its first bytes claim: its header decoded.

`sniff` reads magic bytes, which anyone can put in front of anything (PNG magic followed by HTML is
still HTML to a browser that ignores the type). A decoder has to make sense of what follows: Pillow
for images (it reads the header and verifies the structure without decoding pixels), PyAV (FFmpeg)
for video and audio, and for the HEIF images Pillow cannot open. The dimensions it finds must be
within sane bounds.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from PIL import Image

from aipaint.kit.sniff import HEIC, HEIF, Sniffed

__all__ = ["MAX_IMAGE_PIXELS", "MAX_IMAGE_SIDE", "MAX_VIDEO_SIDE", "Probed", "probe"]

# Bounds a real upload stays within: the largest images cameras and upscalers make, 8K video.
MAX_IMAGE_SIDE: Final = 30_000
MAX_IMAGE_PIXELS: Final = 200_000_000
MAX_VIDEO_SIDE: Final = 8192
# Pillow's format names for each image type `sniff` knows.
_PILLOW_FORMATS: Final = {
    "image/png": {"PNG"},
    "image/jpeg": {"JPEG", "MPO"},
    "image/gif": {"GIF"},
    "image/webp": {"WEBP"},
    "image/bmp": {"BMP", "DIB"},
    "image/tiff": {"TIFF"},
    "image/avif": {"AVIF"},
}


@dataclass(frozen=True)
class Probed:
    """What the decoder found: pixel size for images and video, None for audio."""

    width: int | None = None
    height: int | None = None


class NotMedia(ValueError):
    """The file does not decode as what it claims to be; the message says why, for the user."""


def probe(path: Path, kind: Sniffed) -> Probed:
    """Decode the header of the file at `path`, sniffed as `kind`; raises NotMedia if it fails.

    Blocking (it reads the file): run it in a worker thread.
    """
    if kind.media == "image" and kind not in (HEIC, HEIF):
        return _image(path, kind)
    return _av(path, kind)


def _image(path: Path, kind: Sniffed) -> Probed:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                found = image.format or ""
                width, height = image.size
                image.verify()  # the structure (chunks, checksums) without decoding pixels
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise NotMedia("the image has too many pixels") from None
    except Exception:
        raise NotMedia(f"not a readable {kind.extension} image") from None
    if found not in _PILLOW_FORMATS.get(kind.mime, {found}):
        raise NotMedia(f"the file starts as {kind.extension} but is {found or 'something else'}")
    _check_size(width, height, MAX_IMAGE_SIDE)
    if width * height > MAX_IMAGE_PIXELS:
        raise NotMedia("the image has too many pixels")
    return Probed(width, height)


def _av(path: Path, kind: Sniffed) -> Probed:
    import av  # FFmpeg's libraries: loaded on the first video or audio, not at start-up

    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            videos = [
                (s.codec_context.width, s.codec_context.height) for s in container.streams.video
            ]
            audios = [s.codec_context.sample_rate for s in container.streams.audio]
    except Exception:
        raise NotMedia(f"not a readable {kind.extension} file") from None
    if kind.media == "audio":
        if not audios or not all(rate and rate > 0 for rate in audios):
            raise NotMedia(f"the {kind.extension} file has no audio")
        return Probed()
    if not videos:
        raise NotMedia(f"the {kind.extension} file has no {kind.media}")
    width, height = videos[0]
    _check_size(width, height, MAX_IMAGE_SIDE if kind.media == "image" else MAX_VIDEO_SIDE)
    return Probed(width, height)


def _check_size(width: int, height: int, largest: int) -> None:
    if not (0 < width <= largest and 0 < height <= largest):
        raise NotMedia(f"{width}×{height} pixels is outside 1…{largest} on a side")
