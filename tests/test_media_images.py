"""The artwork pipeline: what it accepts, what it refuses, and that nothing identifying survives."""

from __future__ import annotations

import hashlib
import io
import struct
import time
import warnings
import zlib
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageChops, ImageCms, ImageStat

from archive.media.images import DERIVATIVES, ImageRefused, ProcessedImage, process_upload, sniff

CORPUS = Path("/work/shared/corpora/pillow-malformed")
ACCEPTED_SUFFIXES = {".jpg", ".png", ".webp"}
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
    b'22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/">'
    b"<dc:creator>Asha Secretname</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>"
)


# --- making pictures --------------------------------------------------------------------------


def gps_exif(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Secretphone"
    exif[ExifTags.Base.Artist] = "Asha Secretname"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (18.0, 31.0, 12.0),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: (73.0, 51.0, 24.0),
        }
    )
    return exif


def artwork(size=(2000, 1500), mode="RGB") -> Image.Image:
    """A picture with a blue left part and a red right part, so rotation is visible."""
    picture = Image.new("RGB", size, (220, 30, 30))
    picture.paste((30, 30, 220), (0, 0, size[0] // 3, size[1]))
    return picture.convert(mode)


def encode(picture: Image.Image, kind: str, **params) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, kind, **params)
    return buffer.getvalue()


def with_metadata(kind: str, picture: Image.Image | None = None) -> bytes:
    picture = picture or artwork()
    exif = gps_exif().tobytes()
    if kind == "JPEG":
        return encode(picture, "JPEG", quality=90, exif=exif, xmp=XMP, comment=b"Asha Secretname")
    if kind == "PNG":
        return encode(picture, "PNG", exif=exif)
    if kind == "WEBP":
        return encode(picture, "WEBP", exif=exif, xmp=XMP)
    return encode(picture, "HEIF", quality=80, exif=exif)


def png_claiming(width: int, height: int) -> bytes:
    """A valid, tiny 1-bit PNG of any pixel size: all-zero rows compress to almost nothing."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    row = bytes(1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def opened(derivative) -> Image.Image:
    picture = Image.open(io.BytesIO(derivative.data), formats=["WEBP"])
    picture.load()
    return picture


def assert_clean(processed: ProcessedImage) -> None:
    """No metadata at all: a simple lossy WebP ('VP8 ', no 'VP8X') cannot even hold any."""
    for derivative in processed.derivatives.values():
        data = derivative.data
        assert data[:4] == b"RIFF" and data[8:16] == b"WEBPVP8 "
        for marker in (b"Exif", b"EXIF", b"GPS", b"xmp", b"XMP", b"ICCP", b"Secret"):
            assert marker not in data
        picture = opened(derivative)
        assert len(picture.getexif()) == 0
        assert not {"exif", "xmp", "icc_profile"} & set(picture.info)


def difference(first: Image.Image, second: Image.Image) -> float:
    return (
        sum(ImageStat.Stat(ImageChops.difference(first.convert("RGB"), second.convert("RGB"))).mean)
        / 3
    )


# --- accepted ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_each_accepted_format_gives_clean_webp_derivatives(kind):
    processed = process_upload(with_metadata(kind))

    assert processed.source_format == kind.lower()
    sizes = {name: (d.width, d.height) for name, d in processed.derivatives.items()}
    assert sizes == {"display": (1600, 1200), "medium": (800, 600), "thumb": (400, 300)}
    for derivative in processed.derivatives.values():
        assert derivative.content_type == "image/webp"
        assert derivative.byte_size == len(derivative.data)
        assert derivative.sha256 == hashlib.sha256(derivative.data).hexdigest()
        assert opened(derivative).size == (derivative.width, derivative.height)
    assert processed.largest is processed.derivatives["display"]
    assert_clean(processed)


def test_the_input_really_carried_gps_and_xmp():
    """Guards the test above: the metadata we check is gone was there to begin with."""
    for kind in ("JPEG", "WEBP"):
        source = Image.open(io.BytesIO(with_metadata(kind)))
        assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert "xmp" in source.info


def test_gps_from_a_real_camera_file_is_dropped():
    data = (CORPUS / "exif_gps.jpg").read_bytes()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert_clean(process_upload(data))


def test_small_pictures_are_never_enlarged():
    processed = process_upload(encode(artwork((300, 200)), "PNG"))
    assert {(d.width, d.height) for d in processed.derivatives.values()} == {(300, 200)}


def test_derivative_sizes_follow_the_longest_side():
    processed = process_upload(encode(artwork((1000, 3000)), "JPEG"))
    longest = {name: max(d.width, d.height) for name, d in processed.derivatives.items()}
    assert longest == {name: min(side, 3000) for name, side, _ in DERIVATIVES}
    assert processed.derivatives["display"].width == 533


def test_exif_orientation_is_applied():
    data = encode(artwork((300, 200)), "JPEG", quality=95, exif=gps_exif(orientation=6))
    display = process_upload(data).derivatives["display"]
    assert (display.width, display.height) == (200, 300)
    picture = opened(display)  # rotated clockwise: the blue left part is now on top
    assert picture.getpixel((100, 20))[2] > 180 and picture.getpixel((100, 280))[0] > 180


@pytest.mark.parametrize("name", ["hopper_orientation_6.jpg", "hopper_orientation_6.webp"])
def test_corpus_orientation_6_is_rotated(name):
    data = (CORPUS / name).read_bytes()
    raw = Image.open(io.BytesIO(data))
    assert raw.getexif()[ExifTags.Base.Orientation] == 6
    picture = opened(process_upload(data).derivatives["display"])
    upright = raw.transpose(Image.Transpose.ROTATE_270)
    assert difference(picture, upright) < 8 < difference(picture, raw)


def test_transparency_is_flattened_onto_white():
    picture = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    picture.paste((200, 0, 0, 255), (0, 0, 20, 40))
    output = opened(process_upload(encode(picture, "PNG")).derivatives["display"])
    assert output.mode == "RGB"
    assert min(output.getpixel((35, 20))) > 245
    assert output.getpixel((5, 20))[0] > 180


@pytest.mark.parametrize("mode", ["L", "LA", "P", "1", "CMYK", "I;16"])
def test_other_pixel_modes_become_rgb(mode):
    kind = "JPEG" if mode == "CMYK" else "PNG"
    output = opened(process_upload(encode(artwork((64, 48), mode), kind)).largest)
    assert output.mode == "RGB" and output.size == (64, 48)


def test_sixteen_bit_grey_is_scaled_not_clipped():
    picture = Image.new("I;16", (32, 32), 40000)
    output = opened(process_upload(encode(picture, "PNG")).largest)
    assert abs(output.getpixel((16, 16))[0] - 40000 // 256) <= 3


def test_an_icc_profile_is_applied_and_not_kept():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    processed = process_upload(encode(artwork(), "JPEG", icc_profile=srgb))
    assert_clean(processed)
    assert opened(processed.derivatives["thumb"]).getpixel((350, 150))[0] > 180


def test_only_the_first_frame_of_an_animation_is_kept():
    red, blue = Image.new("RGB", (50, 50), "red"), Image.new("RGB", (50, 50), "blue")
    for kind in ("PNG", "WEBP"):
        data = encode(red, kind, save_all=True, append_images=[blue], duration=100, loop=0)
        assert Image.open(io.BytesIO(data)).n_frames == 2
        output = opened(process_upload(data).derivatives["display"])
        assert output.getpixel((25, 25))[0] > 200 and output.getpixel((25, 25))[2] < 60


def test_html_after_the_jpeg_end_is_never_stored():
    html = b"<html><script>alert('x')</script></html>"
    processed = process_upload(encode(artwork(), "JPEG") + html)
    for derivative in processed.derivatives.values():
        assert b"<script" not in derivative.data and b"<html" not in derivative.data


def test_a_twelve_megapixel_photo_is_processed(record_property):
    """A smoke test, not the budget (that is scripts/bench_media.py): it only has to finish."""
    data = encode(artwork((4000, 3000)), "JPEG", quality=90, exif=gps_exif(orientation=6))
    started = time.perf_counter()
    processed = process_upload(data)
    record_property("seconds", time.perf_counter() - started)
    assert (processed.largest.width, processed.largest.height) == (1200, 1600)


# --- refused ----------------------------------------------------------------------------------


def refusal(data: bytes, **limits) -> ImageRefused:
    with pytest.raises(ImageRefused) as caught:
        process_upload(data, **limits)
    return caught.value


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"Dear diary, this is not a picture.\n" * 20, "not_an_image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "svg"),
        (b"\xef\xbb\xbf  <?xml version='1.0'?>\n<svg></svg>", "svg"),
        (b"<!DOCTYPE html><html><body>hi</body></html>", "not_an_image"),
        (b"%PDF-1.7\n" + bytes(100), "not_an_image"),
        (bytes(range(255, -1, -1)) * 8, "not_an_image"),
        (b"\xff\xd8\xff\xe0" + b"nonsense" * 50, "not_an_image"),
        (b"\x89PNG\r\n\x1a\n" + b"nonsense" * 50, "not_an_image"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 nonsense", "not_an_image"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"nonsense", "not_an_image"),
    ],
)
def test_bad_inputs_are_refused_with_a_reason(data, code):
    assert refusal(data).code == code


@pytest.mark.parametrize("kind", ["GIF", "TIFF", "BMP", "ICO", "PPM"])
def test_other_image_formats_are_unsupported(kind):
    refused = refusal(encode(Image.new("RGB", (16, 16), "red"), kind))
    expected = "not_an_image" if kind == "PPM" else "unsupported"
    assert refused.code == expected


def test_an_avif_is_unsupported():
    assert refusal(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00" + bytes(40)).code == "unsupported"


def test_a_truncated_jpeg_is_refused():
    data = encode(artwork(), "JPEG", quality=90)
    assert refusal(data[: len(data) // 2]).code == "truncated"
    assert refusal((CORPUS / "truncated_jpeg.jpg").read_bytes()).code == "truncated"


def test_too_many_bytes_is_refused_before_looking():
    refused = refusal(b"\xff\xd8\xff" + bytes(60 * 1024 * 1024))
    assert refused.code == "too_large"
    assert "20 MB" in str(refused.message)
    assert refusal(encode(artwork(), "PNG"), max_bytes=1000).code == "too_large"


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (20000, 20000),  # 400 MP: Pillow's own bomb error
        (10000, 10000),  # 100 MP: Pillow's bomb warning, raised as an error
        (8000, 7500),  # 60 MP: our 50 MP cap, checked from the header
    ],
)
def test_too_many_pixels_is_refused_from_the_header(width, height):
    data = png_claiming(width, height)
    assert len(data) < 200_000
    started = time.perf_counter()
    assert refusal(data).code == "too_many_pixels"
    assert time.perf_counter() - started < 1


def test_pillows_bomb_warning_refuses_even_where_warnings_are_ignored():
    """Production does not run with pytest's warnings-as-errors; the pipeline sets its own."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        refused = refusal(png_claiming(10000, 10000), max_pixels=500_000_000)
    assert refused.code == "too_many_pixels"


def test_the_pixel_cap_is_per_call():
    data = encode(artwork((100, 100)), "PNG")
    assert refusal(data, max_pixels=9_999).code == "too_many_pixels"
    assert process_upload(data, max_pixels=10_000).largest.width == 100


def test_refusals_carry_a_readable_message_outside_a_request():
    refused = refusal(b"<svg/>")
    assert "SVG" in str(refused.message) and "svg" in str(refused)


def test_sniff_names_only_accepted_formats():
    assert sniff(encode(artwork((8, 8)), "JPEG")) == "JPEG"
    assert sniff(encode(artwork((8, 8)), "WEBP")) == "WEBP"
    with pytest.raises(ImageRefused):
        sniff(encode(artwork((8, 8)), "GIF"))


# --- the malformed corpus ---------------------------------------------------------------------

CORPUS_FILES = sorted(CORPUS.iterdir()) if CORPUS.is_dir() else []
MUST_PROCESS = {"hopper_orientation_6.jpg", "hopper_orientation_6.webp", "exif_gps.jpg"}
MUST_BE_TRUNCATED = {
    "truncated_jpeg.jpg",
    "truncated_image.png",
    "truncated_end_chunk.png",
    "broken_data_stream.png",
}


def test_the_corpus_is_here():
    assert len(CORPUS_FILES) == 66


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda path: path.name)
def test_every_malformed_file_is_refused_or_processed_quickly(path):
    started = time.perf_counter()
    try:
        processed = process_upload(path.read_bytes())
    except ImageRefused as refused:
        outcome = refused.code
    else:
        outcome = "processed"
        assert_clean(processed)
    assert time.perf_counter() - started < 5

    if path.name in MUST_PROCESS:
        assert outcome == "processed"
    elif path.name in MUST_BE_TRUNCATED:
        assert outcome == "truncated"
    elif path.suffix not in ACCEPTED_SUFFIXES:
        assert outcome == "unsupported"


def test_a_small_picture_gets_each_size_once():
    processed = process_upload(encode(artwork((700, 500)), "JPEG"))
    sizes = [(d.width, d.height) for d in processed.derivatives.values()]
    assert sizes == [(700, 500), (400, 286)]
    assert set(processed.derivatives) == {"display", "thumb"}
