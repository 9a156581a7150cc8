"""The HEIF container (ISO BMFF boxes) that HEIC and AVIF files share: what their primary
image is coded as, and moving a coded image from one AVIF file into another.

Why by hand: libavif can write AVIF at 10 and 12 bits, and imagecodecs reaches it, but without
the ICC profile or EXIF; Pillow writes both, but only at 8 bits; pillow-heif 1.x has no AV1
codec. So a wide AVIF is written twice, by Pillow at 8 bits with the metadata and by
imagecodecs at full depth, and ``replace_primary_coding`` moves the full-depth coded image,
with its coding properties (``av1C``, ``pixi``, ``colr`` nclx), into Pillow's file. Both come
from libavif, so both files have the same layout: one ``meta`` box, then one ``mdat`` box
holding every item's data in one extent each; anything else is refused with ``ValueError``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = ["container_kind", "CodingFacts", "coding_facts", "replace_primary_coding"]

_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})
_CODING_TYPES = (b"av1C", b"hvcC", b"pixi", b"colr")
_IDENTITY_MATRIX = 0


@dataclass(frozen=True)
class _Box:
    kind: bytes
    start: int  # of the header
    body: int  # of the payload (after the header, and a full box's version and flags)
    end: int

    def payload(self, data: bytes) -> bytes:
        return data[self.body : self.end]


def container_kind(head: bytes) -> str | None:
    """``"avif"``, ``"heif"`` (HEIC and other HEIF) or None, from a file's first bytes (its
    ``ftyp`` box: at least the first 32 bytes are needed to see a few compatible brands)."""
    if len(head) < 16 or head[4:8] != b"ftyp":
        return None
    size = min(struct.unpack(">I", head[:4])[0], len(head))
    brands = {head[8:12]} | {head[i : i + 4] for i in range(16, size - 3, 4)}
    if brands & _AVIF_BRANDS:
        return "avif"
    if brands & _HEIF_BRANDS:
        return "heif"
    return None


@dataclass(frozen=True)
class CodingFacts:
    """How a HEIF or AVIF file's primary image is coded.

    Attributes:
        bits: bits per sample (8, 10 or 12), or None when the file does not say.
        full_chroma: 4:4:4 (no chroma subsampling), or None when the file does not say.
        identity_matrix: the colour is coded as RGB, not YUV (nclx matrix 0), as encoders
            code a lossless image.
    """

    bits: int | None
    full_chroma: bool | None
    identity_matrix: bool

    @property
    def lossless(self) -> bool:
        """Coded as lossless encoders code it: RGB, 4:4:4."""
        return self.identity_matrix and bool(self.full_chroma)


def coding_facts(data: bytes) -> CodingFacts:
    """The ``CodingFacts`` of the primary image of a HEIF or AVIF file's bytes.

    Raises:
        ValueError: the boxes are damaged or not laid out as HEIF.
    """
    properties = {}
    for box in _primary_properties(data):  # with an ICC profile there are two colr boxes
        if box.kind != b"colr" or box.payload(data)[:4] == b"nclx":
            properties[box.kind] = box.payload(data)
    bits = full_chroma = None
    if b"av1C" in properties and len(properties[b"av1C"]) >= 3:
        flags = properties[b"av1C"][2]
        high, twelve = bool(flags & 0x40), bool(flags & 0x20)
        bits = 12 if high and twelve else 10 if high else 8
        full_chroma = not flags & 0x0C
    elif b"hvcC" in properties and len(properties[b"hvcC"]) >= 18:
        config = properties[b"hvcC"]
        bits = 8 + (config[17] & 0x07)
        full_chroma = config[16] & 0x03 == 3
    colour = properties.get(b"colr", b"")
    identity = colour[:4] == b"nclx" and len(colour) >= 10 and _u16(colour, 8) == _IDENTITY_MATRIX
    return CodingFacts(bits=bits, full_chroma=full_chroma, identity_matrix=identity)


def replace_primary_coding(target: bytes, source: bytes) -> bytes:
    """``target`` with its primary image's coded data and coding properties (``av1C``,
    ``pixi``, ``colr`` nclx) taken from ``source``'s primary image; everything else (ICC
    profile, EXIF, rotation) stays ``target``'s.

    Args:
        target: an AVIF file from libavif, whose metadata is kept.
        source: an AVIF file of the same picture from libavif, whose coding is taken.

    Raises:
        ValueError: either file is not laid out as described in the module's docstring, or a
            property to replace has another size in ``source``.
    """
    replaced = bytearray(target)
    wanted = {(box.kind, _colour_type(source, box)): box for box in _primary_properties(source)}
    for box in _primary_properties(target):
        donor = wanted.get((box.kind, _colour_type(target, box)))
        if donor is None:
            continue
        if donor.end - donor.start != box.end - box.start:
            raise ValueError(f"the {box.kind.decode()} boxes differ in size")
        replaced[box.start : box.end] = source[donor.start : donor.end]
    return _relocated(bytes(replaced), _primary_data(source))


def _u16(data: bytes, at: int) -> int:
    return struct.unpack_from(">H", data, at)[0]


def _u32(data: bytes, at: int) -> int:
    return struct.unpack_from(">I", data, at)[0]


def _put(data: bytearray, at: int, size: int, value: int) -> None:
    if value >= 1 << (8 * size):
        raise ValueError(f"{value} does not fit in {size} bytes")
    data[at : at + size] = value.to_bytes(size, "big")


def _uint(data: bytes, at: int, size: int) -> int:
    return int.from_bytes(data[at : at + size], "big") if size else 0


_FULL_BOXES = frozenset({b"meta", b"pitm", b"iloc", b"ipma", b"iinf", b"iref", b"hdlr"})


def _boxes(data: bytes, start: int, end: int) -> list[_Box]:
    boxes = []
    position = start
    while position + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, position)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, position + 8)[0], 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            raise ValueError(f"damaged {kind!r} box at byte {position}")
        body = position + header + (4 if kind in _FULL_BOXES else 0)
        boxes.append(_Box(kind, position, body, position + size))
        position += size
    return boxes


def _child(data: bytes, parent: _Box | None, kind: bytes) -> _Box:
    start, end = (0, len(data)) if parent is None else (parent.body, parent.end)
    for box in _boxes(data, start, end):
        if box.kind == kind:
            return box
    raise ValueError(f"no {kind.decode()} box")


def _version(data: bytes, box: _Box) -> int:
    return data[box.body - 4]


def _primary_id(data: bytes, meta: _Box) -> int:
    pitm = _child(data, meta, b"pitm")
    return _u16(data, pitm.body) if _version(data, pitm) == 0 else _u32(data, pitm.body)


def _primary_properties(data: bytes) -> list[_Box]:
    """The primary item's property boxes of the kinds in ``_CODING_TYPES``."""
    meta = _child(data, None, b"meta")
    primary = _primary_id(data, meta)
    iprp = _child(data, meta, b"iprp")
    ipco = _child(data, iprp, b"ipco")
    properties = _boxes(data, ipco.body, ipco.end)
    ipma = _child(data, iprp, b"ipma")
    version, wide_index = _version(data, ipma), data[ipma.body - 1] & 1
    position, found = ipma.body + 4, []
    for _ in range(_u32(data, ipma.body)):
        item = _u16(data, position) if version < 1 else _u32(data, position)
        position += 2 if version < 1 else 4
        count = data[position]
        position += 1
        for _ in range(count):
            index = _u16(data, position) & 0x7FFF if wide_index else data[position] & 0x7F
            position += 2 if wide_index else 1
            if item == primary and 0 < index <= len(properties):
                found.append(properties[index - 1])
    return [box for box in found if box.kind in _CODING_TYPES]


def _colour_type(data: bytes, box: _Box) -> bytes:
    return box.payload(data)[:4] if box.kind == b"colr" else b""


@dataclass
class _Location:
    item: int
    offset_at: int  # where the extent's offset is stored, and its size in bytes
    offset_size: int
    length_at: int
    length_size: int
    base: int
    offset: int
    length: int


def _locations(data: bytes, meta: _Box) -> list[_Location]:
    """Every item's one extent in ``iloc`` (file offsets, data in this file)."""
    iloc = _child(data, meta, b"iloc")
    version = _version(data, iloc)
    offset_size, length_size = data[iloc.body] >> 4, data[iloc.body] & 0x0F
    base_size, index_size = data[iloc.body + 1] >> 4, data[iloc.body + 1] & 0x0F
    if version == 0:
        index_size = 0
    position = iloc.body + 2
    count = _u16(data, position) if version < 2 else _u32(data, position)
    position += 2 if version < 2 else 4
    locations = []
    for _ in range(count):
        item = _u16(data, position) if version < 2 else _u32(data, position)
        position += 2 if version < 2 else 4
        if version >= 1:
            if _u16(data, position) & 0x0F:
                raise ValueError("an item's data is not stored in the file's mdat")
            position += 2
        position += 2  # data_reference_index: 0, this file
        base = _uint(data, position, base_size)
        position += base_size
        if _u16(data, position) != 1:
            raise ValueError("an item's data is split into several extents")
        position += 2 + index_size
        offset_at, length_at = position, position + offset_size
        locations.append(
            _Location(
                item,
                offset_at,
                offset_size,
                length_at,
                length_size,
                base,
                _uint(data, offset_at, offset_size),
                _uint(data, length_at, length_size),
            )
        )
        position = length_at + length_size
    return locations


def _primary_data(data: bytes) -> bytes:
    meta = _child(data, None, b"meta")
    primary = _primary_id(data, meta)
    for location in _locations(data, meta):
        if location.item == primary:
            start = location.base + location.offset
            return data[start : start + location.length]
    raise ValueError("the primary item has no data")


def _relocated(data: bytes, primary_data: bytes) -> bytes:
    """``data`` with the primary item's data replaced and a new ``mdat`` (the last box)."""
    meta = _child(data, None, b"meta")
    primary = _primary_id(data, meta)
    mdat = _boxes(data, 0, len(data))[-1]
    if mdat.kind != b"mdat":
        raise ValueError("the mdat box is not the last box")
    header = 8
    head = bytearray(data[: mdat.start])
    pieces, position = [], mdat.start + header
    for location in _locations(data, meta):
        start = location.base + location.offset
        piece = primary_data if location.item == primary else data[start : start + location.length]
        if location.base or location.offset_size == 0 or location.length_size == 0:
            raise ValueError("an item's extent is not given as an offset and a length")
        _put(head, location.offset_at, location.offset_size, position)
        _put(head, location.length_at, location.length_size, len(piece))
        pieces.append(piece)
        position += len(piece)
    body = b"".join(pieces)
    return bytes(head) + struct.pack(">I4s", header + len(body), b"mdat") + body
