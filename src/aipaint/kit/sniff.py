"""What a media file really is, from its first bytes: never from its name or a declared type.

Uploads and upstream outputs arrive with names and Content-Types that anyone can set; the magic
bytes at the start of the file are what decoders go by, so they are what aipaint goes by too.
Extensions are lower-case versions of the names RunningHub's registry uses in `accept` lists
("jpg", "png", "mp4", "mov", "m4a", ...).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

__all__ = ["HEAD_BYTES", "MEDIA_TYPES", "Sniffed", "sniff"]

HEAD_BYTES: Final = 64  # enough for every signature below, incl. a Matroska DocType


@dataclass(frozen=True)
class Sniffed:
    mime: str
    extension: str
    media: str  # "image", "video" or "audio"


PNG: Final = Sniffed("image/png", "png", "image")
JPEG: Final = Sniffed("image/jpeg", "jpg", "image")
GIF: Final = Sniffed("image/gif", "gif", "image")
WEBP: Final = Sniffed("image/webp", "webp", "image")
BMP: Final = Sniffed("image/bmp", "bmp", "image")
TIFF: Final = Sniffed("image/tiff", "tiff", "image")
HEIC: Final = Sniffed("image/heic", "heic", "image")
HEIF: Final = Sniffed("image/heif", "heif", "image")
AVIF: Final = Sniffed("image/avif", "avif", "image")
MP4: Final = Sniffed("video/mp4", "mp4", "video")
MOV: Final = Sniffed("video/quicktime", "mov", "video")
M4A: Final = Sniffed("audio/mp4", "m4a", "audio")
THREE_GP: Final = Sniffed("video/3gpp", "3gp", "video")
WEBM: Final = Sniffed("video/webm", "webm", "video")
MKV: Final = Sniffed("video/x-matroska", "mkv", "video")
AVI: Final = Sniffed("video/x-msvideo", "avi", "video")
OGV: Final = Sniffed("video/ogg", "ogv", "video")
MP3: Final = Sniffed("audio/mpeg", "mp3", "audio")
WAV: Final = Sniffed("audio/wav", "wav", "audio")
FLAC: Final = Sniffed("audio/flac", "flac", "audio")
OGG: Final = Sniffed("audio/ogg", "ogg", "audio")
AAC: Final = Sniffed("audio/aac", "aac", "audio")

# Every type `sniff` can answer: what an archived file may be served as.
_ALL: Final = (PNG, JPEG, GIF, WEBP, BMP, TIFF, HEIC, HEIF, AVIF, MP4, MOV, M4A, THREE_GP)
MEDIA_TYPES: Final = frozenset(
    kind.mime for kind in (*_ALL, WEBM, MKV, AVI, OGV, MP3, WAV, FLAC, OGG, AAC)
)

# --------------------------------------------------------------------------------------------
# ISO base media (MP4, MOV, M4A, HEIF, AVIF, 3GP): the `ftyp` box names brands
# --------------------------------------------------------------------------------------------

# Brands that say what the file is when they are the major brand.
_SPECIFIC_BRANDS: Final = {
    b"avif": AVIF,
    b"avis": AVIF,  # AVIF image sequence
    b"heic": HEIC,
    b"heix": HEIC,
    b"heim": HEIC,
    b"heis": HEIC,
    b"hevc": HEIC,  # HEVC image sequence
    b"hevx": HEIC,
    b"qt  ": MOV,
    b"M4A ": M4A,
    b"M4B ": M4A,  # audiobook: the same container and codecs as M4A
    b"3gp4": THREE_GP,
    b"3gp5": THREE_GP,
    b"3gp6": THREE_GP,
    b"3g2a": THREE_GP,
}
# Generic HEIF brands: the compatible brands say whether it is AVIF or HEIC.
_HEIF_BRANDS: Final = frozenset({b"mif1", b"msf1", b"miaf"})
# Generic MP4 brands: an audio-only MP4 cannot be told from a video by its head, so these are
# video unless a compatible brand says M4A.
_MP4_BRANDS: Final = frozenset(
    {
        b"isom",
        b"iso2",
        b"iso3",
        b"iso4",
        b"iso5",
        b"iso6",
        b"mp41",
        b"mp42",
        b"avc1",
        b"mmp4",
        b"dash",
        b"M4V ",
        b"M4VH",
        b"M4VP",
        b"MSNV",
        b"XAVC",
        b"f4v ",
    }
)
# Old QuickTime files start with one of these atoms instead of `ftyp`.
_QUICKTIME_ATOMS: Final = frozenset({b"moov", b"mdat", b"wide", b"pnot"})


def _iso_bmff(head: bytes) -> Sniffed | None:
    (box_size,) = struct.unpack(">I", head[:4])
    box_type = head[4:8]
    if box_type in _QUICKTIME_ATOMS:
        # 0 means "to the end of the file" and 1 "a 64-bit size follows"; else at least 8.
        return MOV if box_size >= 8 or box_size in (0, 1) else None
    # An ftyp box is small and whole brands: a major, a minor version, compatible brands.
    if box_type != b"ftyp" or not 16 <= box_size <= 4096 or box_size % 4 or len(head) < 16:
        return None
    major = head[8:12]
    compatible = [head[offset : offset + 4] for offset in range(16, min(len(head), box_size), 4)]
    if major in _SPECIFIC_BRANDS:
        return _SPECIFIC_BRANDS[major]
    if major in _HEIF_BRANDS:
        for brand in compatible:
            if brand in _SPECIFIC_BRANDS and _SPECIFIC_BRANDS[brand].media == "image":
                return _SPECIFIC_BRANDS[brand]
        return HEIF
    if major in _MP4_BRANDS or any(brand in _MP4_BRANDS for brand in compatible):
        return M4A if b"M4A " in compatible else MP4
    return None


# --------------------------------------------------------------------------------------------
# Matroska / WebM: an EBML header whose DocType element names the flavour
# --------------------------------------------------------------------------------------------

_EBML_MAGIC: Final = b"\x1a\x45\xdf\xa3"
_EBML_DOCTYPE: Final = 0x4282


def _vint(data: bytes, offset: int, *, keep_marker: bool) -> tuple[int, int] | None:
    """An EBML variable-length integer at `offset`: (value, offset after it), or None."""
    if offset >= len(data) or data[offset] == 0:
        return None
    first = data[offset]
    length = 9 - first.bit_length()  # the leading zero bits plus the marker bit
    if offset + length > len(data):
        return None
    value = first if keep_marker else first & (0xFF >> length)
    for byte in data[offset + 1 : offset + length]:
        value = (value << 8) | byte
    return value, offset + length


def _matroska(head: bytes) -> Sniffed:
    header = _vint(head, len(_EBML_MAGIC), keep_marker=False)
    offset = header[1] if header else len(head)
    # Walk the header's children (EBMLVersion, ..., DocType) as far as the head reaches.
    while True:
        element = _vint(head, offset, keep_marker=True)
        size = _vint(head, element[1], keep_marker=False) if element else None
        if element is None or size is None:
            return MKV  # no DocType within the head: Matroska is the general case
        start, end = size[1], size[1] + size[0]
        if element[0] == _EBML_DOCTYPE:
            doc_type = head[start:end].rstrip(b"\x00")
            return WEBM if doc_type == b"webm" else MKV
        offset = end


# --------------------------------------------------------------------------------------------
# MPEG audio and ADTS AAC: frame headers starting with a sync word
# --------------------------------------------------------------------------------------------


def _mpeg_audio_frame(head: bytes) -> bool:
    """An MPEG-1/2/2.5 audio frame header (MP3 and its layers I and II)."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0b11
    layer = (head[1] >> 1) & 0b11
    bitrate = head[2] >> 4
    sample_rate = (head[2] >> 2) & 0b11
    emphasis = head[3] & 0b11
    # Every reserved or "bad" value refused, so two random bytes rarely pass for a frame.
    return (
        version != 0b01
        and layer != 0b00
        and bitrate not in (0b0000, 0b1111)  # "free format" is legal but never produced
        and sample_rate != 0b11
        and emphasis != 0b10
    )


def _adts_frame(head: bytes) -> bool:
    """An ADTS header: 12-bit sync, layer 00 (which MPEG audio reserves), a real sample rate."""
    if len(head) < 7 or head[0] != 0xFF or head[1] & 0xF6 != 0xF0:
        return False
    sample_rate_index = (head[2] >> 2) & 0b1111
    frame_length = ((head[3] & 0b11) << 11) | (head[4] << 3) | (head[5] >> 5)
    return sample_rate_index < 13 and frame_length >= 7


def _id3(head: bytes) -> Sniffed | None:
    """An ID3v2 tag: usually MP3, but AAC and FLAC files carry them too, so look past it."""
    if len(head) < 10 or head[3] not in (2, 3, 4) or any(byte & 0x80 for byte in head[6:10]):
        return None
    body = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
    end = 10 + body + (10 if head[5] & 0x10 else 0)  # flag 0x10: a footer follows
    after = sniff(head[end:]) if end < len(head) else None
    return after if after is not None and after.media == "audio" else MP3


# --------------------------------------------------------------------------------------------
# RIFF, Ogg, BMP, TIFF
# --------------------------------------------------------------------------------------------

_RIFF_FORMS: Final = {b"WEBP": WEBP, b"AVI ": AVI, b"WAVE": WAV}


def _ogg(head: bytes) -> Sniffed:
    # The first page holds one packet whose start names the codec (after a 27-byte header and
    # a segment table of `segments` bytes). Theora is video; Vorbis, Opus, FLAC, Speex audio.
    segments = head[26] if len(head) > 26 else 0
    packet = head[27 + segments : 27 + segments + 8]
    return OGV if packet.startswith(b"\x80theora") else OGG


_BMP_DIB_SIZES: Final = frozenset({12, 40, 52, 56, 64, 108, 124})


def _bmp(head: bytes) -> bool:
    # "BM" alone starts plenty of text; the size of the DIB header that follows is one of a
    # handful of values in every real BMP.
    return len(head) >= 18 and struct.unpack("<I", head[14:18])[0] in _BMP_DIB_SIZES


# --------------------------------------------------------------------------------------------


def sniff(head: bytes) -> Sniffed | None:
    """The media type of a file from its first bytes (pass at least HEAD_BYTES), or None.

    None means "not a format aipaint handles": text, HTML, archives, random bytes, too little.
    """
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head.startswith((b"RIFF", b"RF64")) and len(head) >= 12:
        return _RIFF_FORMS.get(head[8:12])
    if head.startswith(b"BM") and _bmp(head):
        return BMP
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):  # + = BigTIFF
        return TIFF
    if head.startswith(_EBML_MAGIC):
        return _matroska(head)
    if head.startswith(b"fLaC"):
        return FLAC
    if head.startswith(b"OggS"):
        return _ogg(head)
    if head.startswith(b"ID3"):
        return _id3(head)
    if len(head) >= 8:
        iso = _iso_bmff(head)
        if iso is not None:
            return iso
    if _adts_frame(head):
        return AAC
    if _mpeg_audio_frame(head):
        return MP3
    return None
