"""The artwork pipeline: an uploaded photo in, upright metadata-free WebP derivatives out.

Decisions (design.md, "Media"):

- **Type from content only.** The first bytes decide (JPEG, PNG, WebP, HEIC/HEIF); filename and
  client MIME type are never consulted. Every other image format is refused as "unsupported"
  before any decoder runs, so Pillow's TIFF, SGI, PSD, ... plugins never see an upload.
- **Caps.** 20 MB and 50 megapixels by default. The pixel count is read from the header and
  checked before decoding; Pillow's own decompression-bomb warning is raised as an error too.
- **Animation.** Only the first frame is kept; every derivative is a still picture.
- **Colour.** A picture carrying an ICC profile (iPhone HEICs are Display P3, print files are
  often CMYK) is converted to sRGB with LittleCMS, and no profile is written: sRGB is what
  browsers assume, and an embedded profile can carry device and software names.
- **Transparency** is flattened onto white; 16-bit greys are scaled, not clipped.
- **Derivatives.** WebP, longest side 1600 (display), 800 (medium, for srcset) and 400 (thumb),
  never upscaled: a small picture gives three derivatives of its own size. There is no
  "original": the display derivative stands in for it. Beside them one JPEG, longest side
  1200 (``preview``), for link previews: some preview clients show nothing for WebP. Nothing
  from the upload's metadata (EXIF, GPS, XMP, ICC, comments) reaches them: each is a fresh
  image with an empty ``info``, saved without ``exif=``, ``xmp=`` or ``icc_profile=``.
- **Speed.** JPEGs are decoded at a reduced scale with ``draft()``; a 12 MP photo takes well
  under a second (``scripts/bench_media.py``).

`warnings.catch_warnings()` changes process-wide state and is not thread-safe before Python
3.14; under a threaded server another thread's warning filters may briefly change. The pixel
check before decoding does not depend on it; the warning filter is a second line.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

import pillow_heif
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from PIL import Image, ImageCms, ImageOps

pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)

MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 50_000_000
#: (name, longest side, WebP quality), largest first; each is made from the one before.
DERIVATIVES = (("display", 1600, 82), ("medium", 800, 80), ("thumb", 400, 76))
#: (name, longest side, JPEG quality) of the link-preview JPEG, made from the display size
PREVIEW = ("preview", 1200, 80)
WEBP = "image/webp"
JPEG = "image/jpeg"

_HEIF_BRANDS = {
    b"heic",
    b"heix",
    b"heim",
    b"heis",
    b"hevc",
    b"hevx",
    b"hevm",
    b"hevs",
    b"mif1",
    b"msf1",
}
#: Signatures of image formats we recognise but do not accept: (offset, bytes).
_OTHER_IMAGES = (
    (0, b"GIF87a"),
    (0, b"GIF89a"),
    (0, b"II*\0"),
    (0, b"MM\0*"),
    (0, b"II+\0"),
    (0, b"MM\0+"),
    (0, b"\0\0\1\0"),
    (0, b"\0\0\2\0"),
    (0, b"icns"),
    (0, b"8BPS"),
    (0, b"DDS "),
    (0, b"BLP1"),
    (0, b"BLP2"),
    (0, b"\x01\xda"),
    (0, b"\xff\x4f\xff\x51"),
    (0, b"\0\0\0\x0cjP  \r\n\x87\n"),
    (0, b"\xff\x0a"),
    (0, b"\0\0\0\x0cJXL \r\n\x87\n"),
    (4, b"\x11\xaf"),
    (4, b"\x12\xaf"),
    (4, b"ftyp"),
    (0, b"qoif"),
    (0, b"\x76\x2f\x31\x01"),
)
_BMP_HEADER_SIZES = {n.to_bytes(4, "little") for n in (12, 40, 52, 56, 64, 108, 124)}

MESSAGES = {
    "empty": _l("This file is empty. Please choose your picture again."),
    "too_many_pixels": _l(
        "This picture is too big for us to work with. "
        "Please send a smaller copy, such as a normal phone photo."
    ),
    "not_an_image": _l(
        "We could not open this file as a picture. "
        "Please choose a photo saved as JPEG, PNG, WebP or HEIC."
    ),
    "svg": _l(
        "SVG drawings cannot be added here. "
        "Please save it as a PNG or JPEG, or take a screenshot, and try again."
    ),
    "truncated": _l(
        "This picture seems incomplete or damaged; perhaps it did not finish "
        "uploading. Please try again."
    ),
    "unsupported": _l(
        "We can take pictures saved as JPEG, PNG, WebP or HEIC. "
        "Please save this one in one of those and try again."
    ),
}


class ImageRefused(Exception):
    """An upload we will not keep; ``message`` is for the person, ``code`` for code and tests."""

    def __init__(self, code: str, message: LazyString | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message if message is not None else MESSAGES[code]

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass(frozen=True)
class Derivative:
    name: str
    width: int
    height: int
    data: bytes = field(repr=False)
    sha256: str
    content_type: str = WEBP

    @property
    def byte_size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class ProcessedImage:
    """What is left of an upload: its source format's name, its WebP derivatives (largest
    first: the sizes pages choose from) and the JPEG link preview."""

    source_format: str
    derivatives: dict[str, Derivative]
    preview: Derivative | None = None

    @property
    def largest(self) -> Derivative:
        return next(iter(self.derivatives.values()))

    def files(self) -> dict[str, Derivative]:
        """Every derivative to store, by name: the WebP sizes, then the preview."""
        extra = {self.preview.name: self.preview} if self.preview is not None else {}
        return {**self.derivatives, **extra}


def process_upload(
    data: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS
) -> ProcessedImage:
    """Turn uploaded bytes into derivatives, or raise `ImageRefused` saying why not.

    ``max_pixels`` above Pillow's ``Image.MAX_IMAGE_PIXELS`` has no effect: Pillow's
    decompression-bomb warning is treated as a refusal too.
    """
    _check_size(data, max_bytes)
    pillow_format = sniff(data)
    with _strict_warnings():
        picture = _decode(data, pillow_format, max_pixels)
        profile = picture.info.get("icc_profile")
        picture = _upright(_reduce(_flatten(_plain_mode(picture)), DERIVATIVES[0][1]))
        display = _shrink(_to_srgb(picture, profile), DERIVATIVES[0][1])
        derivatives = _derivatives(display)
        preview = _preview(display)
    return ProcessedImage(pillow_format.lower(), derivatives, preview)


def sniff(data: bytes) -> str:
    """The Pillow format name of an accepted picture, judged by its first bytes alone."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "HEIF"
    if _looks_like_svg(data):
        raise ImageRefused("svg")
    if _looks_like_other_image(data):
        raise ImageRefused("unsupported")
    raise ImageRefused("not_an_image")


def _check_size(data: bytes, max_bytes: int) -> None:
    if not data:
        raise ImageRefused("empty")
    if len(data) > max_bytes:
        megabytes = max(1, max_bytes // (1024 * 1024))
        raise ImageRefused(
            "too_large",
            _l(
                "This picture is too large. Please choose one smaller than %(megabytes)s MB.",
                megabytes=megabytes,
            ),
        )


def _looks_like_svg(data: bytes) -> bool:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<?xml") or b"<svg" in head


def _looks_like_other_image(data: bytes) -> bool:
    if any(data[at : at + len(magic)] == magic for at, magic in _OTHER_IMAGES):
        return True
    if data.endswith(b"TRUEVISION-XFILE.\0"):
        return True
    if data[:2] == b"BM" and data[14:18] in _BMP_HEADER_SIZES:
        return True
    if data[:1] == b"\x0a" and data[1:2] in (b"\0", b"\2", b"\3", b"\4", b"\5"):  # PCX
        return True
    # TGA has no signature; a plausible header (colour map 0/1, a known image type and depth)
    # will do
    return (
        len(data) > 18
        and data[1] in (0, 1)
        and data[2] in (1, 2, 3, 9, 10, 11)
        and data[16] in (8, 15, 16, 24, 32)
    )


@contextlib.contextmanager
def _strict_warnings() -> Iterator[None]:
    """Decompression-bomb warnings become errors; notes about odd metadata we drop anyway are
    silenced (the metadata never reaches a derivative)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


def _decode(data: bytes, pillow_format: str, max_pixels: int) -> Image.Image:
    picture = _open(data, pillow_format)
    width, height = picture.size
    if width < 1 or height < 1:
        raise ImageRefused("not_an_image")
    if width * height > max_pixels:
        raise ImageRefused("too_many_pixels")
    if pillow_format == "JPEG":
        picture.draft("RGB", _fit(picture.size, DERIVATIVES[0][1]))
    try:
        picture.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRefused("too_many_pixels") from exc
    except Exception as exc:  # an untrusted file in a C decoder: any failure is a damaged file
        raise ImageRefused("truncated") from exc
    if picture.width * picture.height > max_pixels:  # a decoder may disagree with its header
        raise ImageRefused("too_many_pixels")
    return picture


def _open(data: bytes, pillow_format: str) -> Image.Image:
    """Read the header only: no pixel is decoded here."""
    try:
        return Image.open(io.BytesIO(data), formats=[pillow_format])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRefused("too_many_pixels") from exc
    except Exception as exc:  # any parser failure on untrusted bytes means "not a picture"
        raise ImageRefused("not_an_image") from exc


def _plain_mode(picture: Image.Image) -> Image.Image:
    """Palettes expanded and 16-bit greys scaled, so the picture can be averaged and resized."""
    if picture.mode.startswith("I") or picture.mode == "F":
        # a plain convert("L") would clip every grey above 255 to white
        return picture.convert("I").point(lambda value: value / 256).convert("L")
    if picture.mode in ("P", "PA"):
        return picture.convert("RGBA" if picture.has_transparency_data else "RGB")
    if picture.mode == "1":
        return picture.convert("L")
    return picture


def _reduce(picture: Image.Image, longest: int) -> Image.Image:
    """A fast box-filter shrink of a very large picture to between 2 and 4 times ``longest``."""
    factor = max(picture.size) // (2 * longest)
    return picture.reduce(factor) if factor >= 2 else picture


def _upright(picture: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; orientation metadata we cannot read leaves pixels as stored."""
    try:
        ImageOps.exif_transpose(picture, in_place=True)
    except Exception:  # noqa: BLE001 — malformed EXIF is common in the wild and never worth a refusal
        pass
    return picture


def _flatten(picture: Image.Image) -> Image.Image:
    """Transparent parts become white paper (metadata kept: orientation is applied later)."""
    if not picture.has_transparency_data:
        return picture
    rgba = picture.convert("RGBA") if picture.mode != "RGBA" else picture
    paper = Image.new("RGB", rgba.size, (255, 255, 255))
    paper.paste(rgba.convert("RGB"), mask=rgba.getchannel("A"))
    paper.info = dict(picture.info)
    return paper


def _to_srgb(picture: Image.Image, profile: bytes | None) -> Image.Image:
    """An 8-bit RGB image in sRGB, as a new image with no metadata at all."""
    converted = _convert_profile(picture, profile) if profile else None
    rgb = converted or picture.convert("RGB")  # always a new image, never the decoded one
    rgb.info = {}
    return rgb


_SRGB = ImageCms.createProfile("sRGB")
_PROFILE_MODES = {"RGB": "RGB", "CMYK": "CMYK", "GRAY": "L"}


def _convert_profile(picture: Image.Image, icc: bytes) -> Image.Image | None:
    """Convert to sRGB when the profile fits the pixels; None to fall back to a plain convert."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if _PROFILE_MODES.get(source.profile.xcolor_space.strip()) != picture.mode:
            return None
        return ImageCms.profileToProfile(picture, source, _SRGB, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None


def _derivatives(picture: Image.Image) -> dict[str, Derivative]:
    """Each size once: a small picture gets fewer derivatives, never two of the same size."""
    made: dict[str, Derivative] = {}
    for name, longest, quality in DERIVATIVES:
        smaller = _shrink(picture, longest)
        if made and smaller.size == picture.size:
            continue
        picture = smaller
        made[name] = _encode(name, picture, quality)
    return made


def _preview(picture: Image.Image) -> Derivative:
    """The link-preview JPEG, from the display size (never enlarged)."""
    name, longest, quality = PREVIEW
    smaller = _shrink(picture, longest)
    buffer = io.BytesIO()
    smaller.save(buffer, "JPEG", quality=quality, optimize=True)
    data = buffer.getvalue()
    return Derivative(
        name, smaller.width, smaller.height, data, hashlib.sha256(data).hexdigest(), JPEG
    )


def _shrink(picture: Image.Image, longest: int) -> Image.Image:
    size = _fit(picture.size, longest)
    if size == picture.size:
        return picture
    smaller = picture.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    smaller.info = {}
    return smaller


def _encode(name: str, picture: Image.Image, quality: int) -> Derivative:
    buffer = io.BytesIO()
    picture.save(buffer, "WEBP", quality=quality, method=4)
    data = buffer.getvalue()
    return Derivative(name, picture.width, picture.height, data, hashlib.sha256(data).hexdigest())


def _fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """``size`` scaled so its longest side is at most ``longest``; never enlarged."""
    width, height = size
    scale = longest / max(width, height)
    if scale >= 1:
        return size
    return max(1, round(width * scale)), max(1, round(height * scale))
