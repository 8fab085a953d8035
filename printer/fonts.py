"""Finding a Japanese font file on the host, so raster slips and previews can draw kanji."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont

from printer.errors import FontNotFoundError

# Debian/Ubuntu paths first (fonts-noto-cjk, fonts-ipaexfont-gothic), then Fedora/Arch layouts.
REGULAR_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/ipa-ex-gothic/ipaexg.ttf",
)
BOLD_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Bold.ttc",
)

# A .ttc holds one face per region; the order differs between releases, so the JP face is found
# by its family name instead of a fixed index.
_MAX_FACES = 16


@dataclass(frozen=True, slots=True)
class FontFace:
    """One face in a font file."""

    path: Path
    index: int
    family: str


def _japanese_face(path: Path) -> FontFace | None:
    if not path.is_file():
        return None
    if path.suffix.lower() != ".ttc":
        try:
            family = ImageFont.truetype(str(path), 12).getname()[0] or path.stem
        except OSError:
            return None
        return FontFace(path, 0, family)
    for index in range(_MAX_FACES):
        try:
            family = ImageFont.truetype(str(path), 12, index=index).getname()[0] or ""
        except OSError:
            break
        if "JP" in family:
            return FontFace(path, index, family)
    return None


@functools.cache
def _first_face(candidates: tuple[str, ...]) -> FontFace | None:
    for candidate in candidates:
        face = _japanese_face(Path(candidate))
        if face is not None:
            return face
    return None


def find_japanese_font(bold: bool = False, extra: Sequence[str] = ()) -> FontFace:
    """Return a Japanese font face; bold falls back to regular; raises E-PRN-07 when none."""
    if bold:
        face = _first_face((*extra, *BOLD_CANDIDATES))
        if face is not None:
            return face
    face = _first_face((*extra, *REGULAR_CANDIDATES))
    if face is None:
        raise FontNotFoundError("install Debian fonts-noto-cjk or fonts-ipaexfont-gothic")
    return face


@functools.lru_cache(maxsize=64)
def load_font(face: FontFace, size: int) -> ImageFont.FreeTypeFont:
    """Load a face at a pixel size (cached: opening a .ttc costs about a millisecond)."""
    return ImageFont.truetype(str(face.path), size, index=face.index)
