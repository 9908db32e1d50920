#!/usr/bin/env python3
"""Checks that TensorBoard reads the event files Gannet writes (Sources/Media/TensorBoard.swift).

    check_tensorboard.py [LOGDIR] [--swift-args ARGS]

Without LOGDIR, writes the sample into a temporary directory by running the Swift test
    GANNET_TENSORBOARD_SAMPLE_DIR=DIR swift test --filter TensorBoardTests/testWriteInteropSample
(from the package root). With LOGDIR, checks a sample that test already wrote there.

The sample: a first event file with SessionLog START at step 0, scalars `training_loss` = 0.5*s and `learning_rate` =
3e-4 at steps 0..9, and images `real_images/0` (28x20 gray, pixel (x, y) = (7x + 13y + s) % 256)
and `generated_images/0` (4x3 RGB, byte i = 7i) at steps 0 and 5, a text summary
`health/mode_collapse` at step 3 (TEXT below, non-ASCII included); then a second file (a
"resume") with SessionLog START at step 5 and `training_loss` = 100 + s at steps 6 and 7.
A START purges the points with step >= its step from earlier files; the server's
plugin_event_accumulator ignores a run's *first* START, hence the START at step 0.

Checks, each printed on one line; exits non-zero on the first failure:
1. EventFileLoader reads every record of every file (CRCs pass): file_version first.
2. Legacy EventAccumulator: scalar steps/values after the START purge, images byte-exact
   PNGs with the right size and pixels.
3. plugin_event_accumulator (what the server uses): tags under the `scalars`, `images` and
   `text` plugins; the text tensor is a rank-0 DT_STRING holding TEXT.
4. `tensorboard --inspect --logdir DIR` exits 0 and lists the tags.
5. With --server: starts `tensorboard --logdir DIR` (Rust fast-loading backend, the default)
   on 127.0.0.1:--port and queries /data/plugin/scalars/scalars and the image blobs. That
   backend purges by step regression, not by START: it keeps the old step 5 (step > T dropped).
Needs: pip install tensorboard (2.21.0 brings numpy, protobuf and pillow).
"""
import argparse
import glob
import io
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.backend.event_processing import event_file_loader
from tensorboard.backend.event_processing import plugin_event_accumulator as pea
from tensorboard.util import tensor_util

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEXT = "iteration 3: frame diversity 0.5 < 4 — *Gannet* ✓"


def ok(msg):
    print(f"ok: {msg}")


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)
    ok(msg)


def write_sample(logdir, swift_args):
    env = dict(os.environ, GANNET_TENSORBOARD_SAMPLE_DIR=logdir)
    cmd = ["swift", "test"] + swift_args + ["--filter", "TensorBoardTests/testWriteInteropSample"]
    print("running:", " ".join(cmd))
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout[-4000:], r.stderr[-4000:])
        fail("swift test writing the sample")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("logdir", nargs="?")
    ap.add_argument("--swift-args", default="", help="extra arguments for swift test, e.g. '-c release'")
    ap.add_argument("--server", action="store_true", help="also query a live tensorboard server")
    ap.add_argument("--port", type=int, default=6123)
    args = ap.parse_args()
    logdir = args.logdir
    if logdir is None:
        logdir = tempfile.mkdtemp(prefix="gannet-tb-")
        write_sample(logdir, args.swift_args.split())

    files = sorted(f for f in glob.glob(os.path.join(logdir, "*")) if "tfevents" in os.path.basename(f))
    check(len(files) == 2, f"two event files in {logdir}: {[os.path.basename(f) for f in files]}")

    # 1. Raw records (EventFileLoader checks both CRCs of every record).
    counts = []
    for f in files:
        events = list(event_file_loader.EventFileLoader(f).Load())
        check(events and events[0].WhichOneof("what") == "file_version"
              and events[0].file_version == "brain.Event:2", f"{os.path.basename(f)}: first event is file_version brain.Event:2")
        counts.append(len(events))
        raw = list(event_file_loader.RawEventFileLoader(f).Load())
        check(len(raw) == len(events), f"{os.path.basename(f)}: {len(raw)} records, all CRCs valid")
    check(counts == [1 + 1 + 20 + 4 + 1, 1 + 1 + 2], f"event counts {counts} (expected [27, 4])")
    second = list(event_file_loader.EventFileLoader(files[1]).Load())
    check(second[1].WhichOneof("what") == "session_log" and second[1].session_log.status == 1
          and second[1].step == 5, "second file: SessionLog START at step 5")

    # 2. Legacy accumulator.
    acc = ea.EventAccumulator(logdir, size_guidance={ea.SCALARS: 0, ea.IMAGES: 0})
    acc.Reload()
    tags = acc.Tags()
    check(set(tags["scalars"]) == {"training_loss", "learning_rate"}, f"scalar tags {sorted(tags['scalars'])}")
    check(set(tags["images"]) == {"real_images/0", "generated_images/0"}, f"image tags {sorted(tags['images'])}")
    # START at step 5 purges the first run's points with step >= 5 (TensorBoard keeps x.step < 5).
    loss = [(e.step, e.value) for e in acc.Scalars("training_loss")]
    expected = [(s, 0.5 * s) for s in range(5)] + [(6, 106.0), (7, 107.0)]
    check(loss == expected, f"training_loss after resume purge: {loss}")
    lr = acc.Scalars("learning_rate")
    check([e.step for e in lr] == list(range(5)) and all(abs(e.value - 3e-4) < 1e-9 for e in lr),
          "learning_rate 3e-4 at steps 0..4 (steps >= 5 purged)")
    check(lr[2].wall_time == 1700000002.0, f"wall_time {lr[2].wall_time}")

    real = acc.Images("real_images/0")
    check([i.step for i in real] == [0], f"real_images/0 steps {[i.step for i in real]}")
    im = real[0]
    check((im.width, im.height) == (28, 20), f"real_images/0 size {im.width}x{im.height}")
    png = Image.open(io.BytesIO(im.encoded_image_string))
    a = np.asarray(png)
    y, x = np.mgrid[0:20, 0:28]
    check(png.mode == "L" and a.shape == (20, 28) and np.array_equal(a, (7 * x + 13 * y) % 256),
          "real_images/0 PNG decodes to the expected gray pixels")
    gen = acc.Images("generated_images/0")[0]
    g = np.asarray(Image.open(io.BytesIO(gen.encoded_image_string)))
    check(g.shape == (3, 4, 3) and np.array_equal(g.reshape(-1), (np.arange(36) * 7) % 256),
          "generated_images/0 PNG decodes to the expected RGB pixels")

    # 3. What the server sees.
    pacc = pea.EventAccumulator(logdir, size_guidance={"tensors": 0})
    pacc.Reload()
    ttags = set(pacc.Tags()["tensors"])
    check(ttags == {"training_loss", "learning_rate", "real_images/0", "generated_images/0", "health/mode_collapse"},
          f"server tensor tags {sorted(ttags)}")
    check(pacc.SummaryMetadata("health/mode_collapse").plugin_data.plugin_name == "text", "health/mode_collapse under the text plugin")
    texts = pacc.Tensors("health/mode_collapse")
    arr = tensor_util.make_ndarray(texts[0].tensor_proto)
    check(len(texts) == 1 and texts[0].step == 3 and arr.shape == () and arr.item().decode("utf-8") == TEXT,
          f"health/mode_collapse: one rank-0 string at step 3: {[(t.step, arr.shape, arr.item()) for t in texts]}")
    check(pacc.SummaryMetadata("training_loss").plugin_data.plugin_name == "scalars", "training_loss under the scalars plugin")
    check(pacc.SummaryMetadata("real_images/0").plugin_data.plugin_name == "images", "real_images/0 under the images plugin")
    ploss = [(e.step, float(np.asarray(tensor_util.make_ndarray(e.tensor_proto)))) for e in pacc.Tensors("training_loss")]
    check(ploss == expected, f"server training_loss {ploss}")

    # 4. CLI.
    tb = os.path.join(os.path.dirname(sys.executable), "tensorboard")
    r = subprocess.run([tb, "--inspect", "--logdir", logdir], capture_output=True, text=True)
    out = r.stdout + r.stderr
    check(r.returncode == 0 and "training_loss" in out and "real_images/0" in out,
          "tensorboard --inspect lists training_loss and real_images/0")
    if args.server:
        check_server(logdir, args.port, acc)
    print("all TensorBoard checks passed")


def check_server(logdir, port, acc):
    import json
    import time
    import urllib.parse
    import urllib.request

    tb = os.path.join(os.path.dirname(sys.executable), "tensorboard")
    proc = subprocess.Popen([tb, "--logdir", logdir, "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"

    def get(path):
        with urllib.request.urlopen(base + path, timeout=10) as r:
            return r.read()

    try:
        scalars = None
        for _ in range(60):
            time.sleep(1)
            try:
                scalars = json.loads(get("/data/plugin/scalars/scalars?run=.&tag=training_loss"))
                if scalars and scalars[-1][1] == 7:
                    break
            except Exception:
                pass
        points = [(p[1], p[2]) for p in scalars or []]
        check(points == [(s, 0.5 * s) for s in range(6)] + [(6, 106.0), (7, 107.0)],
              f"server /data/plugin/scalars/scalars training_loss {points}")
        images = json.loads(get("/data/plugin/images/images?" + urllib.parse.urlencode({"run": ".", "tag": "real_images/0"})))
        blob = get("/data/plugin/images/individualImage?" + images[0]["query"])
        check(images[0]["step"] == 0 and blob == acc.Images("real_images/0")[0].encoded_image_string,
              "server serves real_images/0 step 0 PNG byte-exact")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
