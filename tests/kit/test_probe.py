"""`probe`: a file's header decoded, so that magic bytes alone do not make a media file."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from aipaint.kit.probe import MAX_IMAGE_SIDE, NotMedia, Probed, probe
from aipaint.kit.sniff import sniff
from aipaint.simulator.outputs import render


def probed(tmp_path: Path, data: bytes) -> Probed:
    kind = sniff(data[:64])
    assert kind is not None
    path = tmp_path / "file"
    path.write_bytes(data)
    return probe(path, kind)


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF", "AVIF"])
def test_real_images_give_their_size(tmp_path: Path, image_format: str) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (33, 21)).save(buffer, image_format)
    assert probed(tmp_path, buffer.getvalue()) == Probed(33, 21)


def test_real_video_and_audio(tmp_path: Path) -> None:
    video = render("video", {"prompt": "x", "resolution": "480p"}, seed=1).data
    assert probed(tmp_path, video).width
    assert probed(tmp_path, render("audio", {"prompt": "x"}, seed=1).data) == Probed()


def test_a_jpeg_with_png_magic_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "JPEG")
    with pytest.raises(NotMedia):
        probed(tmp_path, b"\x89PNG\r\n\x1a\n" + buffer.getvalue())


def test_sides_beyond_the_bound_are_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("1", (MAX_IMAGE_SIDE + 1, 1)).save(buffer, "PNG")
    with pytest.raises(NotMedia, match="outside"):
        probed(tmp_path, buffer.getvalue())


def test_an_audio_file_that_is_no_audio_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NotMedia):
        probed(tmp_path, b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"<html>" * 100)
