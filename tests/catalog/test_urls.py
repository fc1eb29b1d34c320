"""What a file parameter accepts: http(s) URLs and base64 data URIs, and what a data URI carries."""

from __future__ import annotations

import base64
import re

import pytest

from aipaint.catalog.urls import URL_PATTERN, DataUri, is_media_reference, parse_data_uri

MIB = 1024 * 1024


class TestIsMediaReference:
    @pytest.mark.parametrize(
        "value",
        [
            "https://example.com/a.png",
            "http://example.com/a.png",
            "https://example.com",
            "https://cdn.example.com:8443/path/to/a.png?x=1&y=2#frag",
            "https://example.com/图片/猫.png",
            "https://user@example.com/a%20b.png",
            "data:image/png;base64,iVBORw0KGgo=",
            "data:image/jpeg;base64,/9j/4AAQ",
            "data:image/png;name=cat.png;base64,AAAA",
            "data:audio/x-m4a;base64,AAAAAA==",
            "data:video/mp4;base64,",
        ],
    )
    def test_accepts(self, value: str) -> None:
        assert is_media_reference(value)

    @pytest.mark.parametrize(
        "value",
        [
            "",
            "ftp://example.com/a.png",
            "file:///tmp/a.png",
            "/images/a.png",
            "images/a.png",
            "example.com/a.png",
            "http://",
            "https://",
            "https:///a.png",
            "https://?a=1",
            "https://example.com/a b.png",
            " https://example.com/a.png",
            "https://example.com/a.png ",
            "https://example.com/a.png\n",
            "\nhttps://example.com/a.png",
            "https://example.com/a.png\nhttps://example.com/b.png",
            "data:image/png,iVBORw0KGgo=",
            "data:image/png;base64",
            "data:;base64,AAAA",
            "data:image;base64,AAAA",
            "data:image/png;base64,AA=A",
            "data:image/png;base64,A===",
            "data:image/png;base64,AA AA",
            "data:image/png;base64,AA-_",
            "data:image/png;base64,AAAA\n",
            # Well-formed characters, but no whole number of base64 groups: undecodable.
            "data:image/png;base64,A",
            "data:image/png;base64,AAAAA",
            "data:image/png;base64,AAAAAA",
            "data:image/png;base64,AAAAA=",
        ],
    )
    def test_rejects(self, value: str) -> None:
        assert not is_media_reference(value)

    def test_the_exported_pattern_is_anchored(self) -> None:
        # The JSON Schema `pattern` is searched, not matched: without anchors anything containing a
        # URL would pass a client-side validator.
        assert URL_PATTERN.startswith("^")
        assert URL_PATTERN.endswith("$")
        assert re.search(URL_PATTERN, "see https://example.com/a.png") is None


class TestParseDataUri:
    @pytest.mark.parametrize("length", range(13))
    def test_size_is_the_decoded_length(self, length: int) -> None:
        payload = base64.b64encode(bytes(range(length))).decode()
        data = parse_data_uri(f"data:image/png;base64,{payload}")
        assert data is not None
        assert data.size_bytes == length == len(base64.b64decode(payload))

    @pytest.mark.parametrize(
        ("payload", "size"),
        [("", 0), ("AA==", 1), ("AAA=", 2), ("AAAA", 3), ("AAAAAA==", 4), ("AAAAAAAA", 6)],
    )
    def test_padding_is_not_counted(self, payload: str, size: int) -> None:
        data = parse_data_uri(f"data:image/png;base64,{payload}")
        assert data is not None
        assert data.size_bytes == size

    @pytest.mark.parametrize("payload", ["A", "AA", "AAA", "AAAAA", "AAAAAA", "AAAAA=", "AAAAAAA"])
    def test_broken_base64_length_is_rejected(self, payload: str) -> None:
        assert parse_data_uri(f"data:image/png;base64,{payload}") is None

    def test_size_in_mb_without_decoding(self) -> None:
        data = parse_data_uri("data:video/mp4;base64," + "A" * (4 * MIB))
        assert data is not None
        assert data.size_bytes == 3 * MIB
        assert data.size_mb == 3.0

    @pytest.mark.parametrize(
        "value",
        [
            "https://example.com/a.png",
            "ftp://example.com/a.png",
            "data:image/png,AAAA",
            "data:image/png;base64,AAAA\n",
            "not a url",
        ],
    )
    def test_anything_but_a_data_uri_is_none(self, value: str) -> None:
        assert parse_data_uri(value) is None

    def test_type_and_parameters(self) -> None:
        data = parse_data_uri("data:Image/JPEG;name=cat.jpg;base64,/9j/4AAQ")
        assert data == DataUri(mime_type="Image/JPEG", subtype="jpeg", size_bytes=6)


class TestFormats:
    @pytest.mark.parametrize(
        ("mime_type", "formats"),
        [
            ("image/jpeg", {"JPG", "JPEG"}),
            ("image/jpg", {"JPG", "JPEG"}),
            ("image/JPEG", {"JPG", "JPEG"}),
            ("image/png", {"PNG"}),
            ("image/webp", {"WEBP"}),
            ("image/svg+xml", {"SVG+XML"}),
            ("video/mp4", {"MP4"}),
            ("video/quicktime", {"MOV"}),
            ("video/webm", {"WEBM"}),
            ("audio/mpeg", {"MP3", "MPEG"}),
            ("audio/wav", {"WAV"}),
            ("audio/x-wav", {"WAV"}),
            ("audio/wave", {"WAV"}),
            ("audio/x-m4a", {"M4A"}),
        ],
    )
    def test_registry_format_names(self, mime_type: str, formats: set[str]) -> None:
        data = parse_data_uri(f"data:{mime_type};base64,AAAA")
        assert data is not None
        assert data.formats() == formats
