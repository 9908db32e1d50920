#!/usr/bin/env python3
"""Decodes Gannet's GIFs with Pillow and compares them with the frames they were made from.

Usage:
  GANNET_GIF_OUT=/tmp/gifs swift test --filter GIFInteropExport   # writes NAME.gif/.raw/.json
  .venv/bin/python Tools/interop/check_gif.py /tmp/gifs [more.gif …]

For each NAME.gif with NAME.raw (palette indices, frames concatenated) and NAME.json (width,
height, frames, palette, delay_cs) it checks size, frame count, loop=0, per-frame duration and
that every frame's RGB pixels equal palette[index]. Extra .gif files without .raw (e.g. from
gan-interpolate) are only checked to decode. Prints one line per case, then "N passed, N failed".
"""
import glob
import json
import os
import sys

import numpy as np
from PIL import Image, ImageSequence


def check(gif):
    base = gif[:-4]
    im = Image.open(gif)
    frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]
    if not os.path.exists(base + ".raw"):
        return f"{len(frames)} frames {im.size}"
    meta = json.load(open(base + ".json"))
    w, h, n = meta["width"], meta["height"], meta["frames"]
    assert im.size == (w, h), f"size {im.size} != {(w, h)}"
    assert len(frames) == n, f"{len(frames)} frames != {n}"
    assert im.info.get("loop") == 0, f"loop {im.info.get('loop')}"
    assert im.info.get("duration") == meta["delay_cs"] * 10, f"duration {im.info.get('duration')}"
    pal = np.array(meta["palette"], dtype=np.uint8).reshape(-1, 3)
    raw = np.fromfile(base + ".raw", dtype=np.uint8).reshape(n, h, w)
    for k in range(n):
        want = pal[raw[k]]
        if not np.array_equal(frames[k], want):
            bad = np.argwhere((frames[k] != want).any(axis=2))
            raise AssertionError(f"frame {k}: {len(bad)} pixels differ, first at {bad[0].tolist()}")
    return f"{n} frames {w}x{h} exact"


def main():
    paths = []
    for a in sys.argv[1:] or ["."]:
        paths += sorted(glob.glob(os.path.join(a, "*.gif"))) if os.path.isdir(a) else [a]
    passed = failed = 0
    for p in paths:
        try:
            print(f"ok   {p}: {check(p)}")
            passed += 1
        except Exception as e:  # noqa: BLE001 - report every failure
            print(f"FAIL {p}: {e}")
            failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
