#!/usr/bin/env python3
"""Writes the small seed corpora of the libFuzzer targets (Tools/fuzz/*/corpus).

Run with the interop venv (Tools/scripts/python-env.sh: onnx, numpy, pillow). Each corpus holds
a few valid inputs of its format, small enough to commit; libFuzzer mutates from there.
Arguments: target names to write only those corpora (default: all).
"""
import gzip, io, json, os, shutil, struct, sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

root = os.path.dirname(os.path.abspath(__file__))
repo = os.path.dirname(os.path.dirname(root))

only = set(sys.argv[1:])

def out(target, name, data):
    if only and target not in only:
        return
    d = os.path.join(root, target, "corpus")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

# ONNX: one small model per op family Gannet imports, plus a nested If and legacy opset.
def model(nodes, inputs, outputs, inits=(), opset=17):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m.SerializeToString()

f = TensorProto.FLOAT
vi = helper.make_tensor_value_info
w = numpy_helper.from_array(np.arange(8, dtype=np.float32).reshape(2, 1, 2, 2) / 8, "w")
b = numpy_helper.from_array(np.zeros(2, np.float32), "b")
out("onnx", "conv.onnx", model([helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1, 1, 1], strides=[2, 2])],
                               [vi("x", f, ["N", 1, 4, 4])], [vi("y", f, None)], [w, b]))
wt = numpy_helper.from_array(np.ones((1, 2, 3, 3), np.float32), "wt")
out("onnx", "convtranspose.onnx", model([helper.make_node("ConvTranspose", ["x", "wt"], ["y"], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])],
                                        [vi("x", f, [1, 1, 3, 3])], [vi("y", f, None)], [wt]))
shape = numpy_helper.from_array(np.array([-1, 2, 2, 2], np.int64), "s")
out("onnx", "reshape.onnx", model([helper.make_node("Reshape", ["x", "s"], ["r"]), helper.make_node("Relu", ["r"], ["y"])],
                                  [vi("x", f, [1, 8])], [vi("y", f, None)], [shape]))
gw = numpy_helper.from_array(np.ones((3, 4), np.float32), "gw")
out("onnx", "gemm_bn.onnx", model([
    helper.make_node("Gemm", ["x", "gw"], ["h"], transB=1),
    helper.make_node("BatchNormalization", ["h", "g", "be", "m", "v"], ["n"]),
    helper.make_node("LeakyRelu", ["n"], ["l"], alpha=0.2),
    helper.make_node("Softmax", ["l"], ["y"], axis=1)],
    [vi("x", f, ["N", 4])], [vi("y", f, None)],
    [gw] + [numpy_helper.from_array(np.full(3, v, np.float32), n) for n, v in [("g", 1), ("be", 0), ("m", 0), ("v", 1)]]))
idx = numpy_helper.from_array(np.array([0, 2], np.int64), "i")
out("onnx", "gather_concat_slice.onnx", model([
    helper.make_node("Gather", ["x", "i"], ["a"], axis=1),
    helper.make_node("Concat", ["a", "a"], ["c"], axis=1),
    helper.make_node("Slice", ["c", "st", "en"], ["s2"]),
    helper.make_node("Transpose", ["s2"], ["y"], perm=[1, 0])],
    [vi("x", f, [2, 3])], [vi("y", f, None)],
    [idx, numpy_helper.from_array(np.array([0, 1], np.int64), "st"), numpy_helper.from_array(np.array([2, 4], np.int64), "en")]))
out("onnx", "pool_opset6.onnx", model([helper.make_node("MaxPool", ["x"], ["p"], kernel_shape=[2, 2]),
                                       helper.make_node("Add", ["p", "p"], ["y"])],
                                      [vi("x", f, [1, 1, 4, 4])], [vi("y", f, None)], opset=6))
then = helper.make_graph([helper.make_node("Identity", ["x"], ["t"])], "then", [], [vi("t", f, None)])
out("onnx", "if.onnx", model([helper.make_node("If", ["c"], ["y"], then_branch=then, else_branch=then)],
                             [vi("c", TensorProto.BOOL, []), vi("x", f, [1])], [vi("y", f, None)]))

# IR text: the smallest golden files.
golden = os.path.join(repo, "Tests", "PassesTests", "Golden")
for name in ["mnist_discriminator.infer_shapes.ir", "mnist_generator.infer_shapes.ir",
             "train_generator_small.after.FuseConvTransposeBatchNorm.ir"]:
    with open(os.path.join(golden, name), "rb") as fh:
        out("ir", name, fh.read())
out("ir", "tiny.ir", b'graph "g" {\n  input %x: f32[N,4]\n  init %s: i64[2] = [-1, 2]\n  %r: f32[N,2] = Reshape(%x, %s)\n  %y: f32[N,2] = Relu(%r)\n  output %y\n}\n')

# Specs: the repository's.
for name in ["mnist_gan.yaml", "mnist_cwgangp.yaml", "dcgan_mnist64.yaml", "classifier_fashion_mnist.yaml"]:
    with open(os.path.join(repo, "Specs", name), "rb") as fh:
        out("spec", name, fh.read())

# Checkpoints: GANNETCK + u32 header length + JSON header + floats (Sources/GAN/Checkpoint.swift).
def checkpoint(buffers):
    header = {"version": 1, "spec": "name: tiny\n", "seed": 7, "threads": 1,
              "counters": {"iteration": 3, "epoch": 0, "cursor": 3, "generatorCounter": 1, "frameCounter": 0,
                           "framesWritten": 0, "generatorSteps": 1},
              "buffers": [{"name": n, "shape": list(a.shape)} for n, a in buffers],
              "optimizerCounters": {"adam.step": 3}}
    j = json.dumps(header, separators=(",", ":")).encode()
    return b"GANNETCK" + struct.pack("<I", len(j)) + j + b"".join(a.astype("<f4").tobytes() for _, a in buffers)
out("checkpoint", "two_buffers.gck", checkpoint([("fc.weight", np.arange(6, dtype=np.float32).reshape(2, 3)), ("fc.bias", np.zeros(2, np.float32))]))
out("checkpoint", "scalar.gck", checkpoint([("s", np.array(1.5, np.float32))]))
out("checkpoint", "empty.gck", checkpoint([]))

# IDX: images N×H×W and labels N, plain and gzipped.
def idx(arr):
    arr = np.asarray(arr, np.uint8)
    return struct.pack(">BBBB", 0, 0, 8, arr.ndim) + b"".join(struct.pack(">I", d) for d in arr.shape) + arr.tobytes()
images = idx(np.arange(2 * 3 * 3).reshape(2, 3, 3))
out("idx", "images.idx", images)
out("idx", "images.idx.gz", gzip.compress(images, mtime=0))
out("idx", "labels.idx", idx([3, 1, 4, 1]))

# Images (the png target, Tools/fuzz/png/FuzzPNG.swift): two option bytes, then a PNG or JPEG
# file. 0x80: defaults, chunk CRCs recomputed; 0x9B/0x23: 3 channels, resized bilinear to 5×7;
# 0xE5/0x02: 1 channel, crop 3×3, range −1…1, skip bad images.
def png(img, **kw):
    buf = io.BytesIO()
    img.save(buf, format="PNG", **kw)
    return buf.getvalue()
def jpeg(img):
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=90)
    return buf.getvalue()
px = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
images = {
    "gray.png": png(Image.fromarray(px[:, :, 0], "L")),
    "rgb.png": png(Image.fromarray(px, "RGB")),
    "rgba.png": png(Image.fromarray(np.dstack([px, px[:, :, :1]]), "RGBA")),
    "palette.png": png(Image.fromarray(px, "RGB").convert("P")),
    "gray16.png": png(Image.fromarray(px[:, :, 0].astype(np.uint16) * 257)),
    "interlaced.png": png(Image.fromarray(px, "RGB"), interlace=1),
    "gray.jpg": jpeg(Image.fromarray(px[:, :, 0], "L")),
    "rgb.jpg": jpeg(Image.fromarray(px, "RGB")),
}
for name, data in images.items():
    out("png", name, b"\x80\x00" + data)
for name in ["rgb.png", "gray.png", "rgb.jpg"]:
    out("png", "resize_" + name, b"\x9b\x23" + images[name])
for name in ["rgba.png", "gray.jpg"]:
    out("png", "crop_" + name, b"\xe5\x02" + images[name])
