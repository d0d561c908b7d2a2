"""Time the artwork pipeline on a 12-megapixel phone-like photo (budget: 1 s, design.md).

Usage: .venv/bin/python scripts/bench_media.py [--runs N]

The photo is synthetic and the same on every run: a colour gradient with fine grain, so it
encodes like a real photo, carrying EXIF with a camera name, orientation 6 and a GPS position.
Exits 1 when the median is over budget.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import ExifTags, Image

from archive.media.images import process_upload

BUDGET_SECONDS = 1.0
SIZE = (4000, 3000)


def synthetic_photo(seed: int = 12) -> bytes:
    """A deterministic 4000×3000 JPEG with GPS EXIF, about the size a phone writes."""
    width, height = SIZE
    gradient = Image.linear_gradient("L").resize(SIZE)
    across = Image.linear_gradient("L").rotate(90).resize(SIZE)
    grain = Image.frombytes("L", SIZE, random.Random(seed).randbytes(width * height))
    colour = Image.merge("RGB", (gradient, across, Image.blend(gradient, across, 0.5)))
    photo = Image.blend(colour, Image.merge("RGB", (grain, grain, grain)), 0.12)
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=90, exif=_exif_with_gps())
    return buffer.getvalue()


def _exif_with_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Bench"
    exif[ExifTags.Base.Model] = "Phone 12MP"
    exif[ExifTags.Base.Orientation] = 6
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (18.0, 31.0, 12.0),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: (73.0, 51.0, 24.0),
        }
    )
    return exif


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs (default 5)")
    runs = parser.parse_args(argv).runs
    photo = synthetic_photo()
    process_upload(photo)  # warm-up: first use loads codecs and colour tables
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        processed = process_upload(photo)
        timings.append(time.perf_counter() - started)
    median = statistics.median(timings)
    sizes = ", ".join(
        f"{d.name} {d.width}×{d.height} {d.byte_size // 1024} KB"
        for d in processed.derivatives.values()
    )
    print(f"input: {SIZE[0]}×{SIZE[1]} JPEG, {len(photo) / 1e6:.1f} MB, EXIF with GPS")
    print(f"output: {sizes}")
    print(
        f"runs: {runs}  median: {median:.3f} s  max: {max(timings):.3f} s  "
        f"budget: ≤ {BUDGET_SECONDS:.1f} s  {'OK' if median <= BUDGET_SECONDS else 'OVER'}"
    )
    return 0 if median <= BUDGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
