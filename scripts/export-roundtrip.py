#!/usr/bin/env python3
"""Checks InkLab's Keras and ONNX exports against InkLab itself, outside the test suite.

Exports a model with `inklab export`, classifies the same 28x28 images with InkLab
(`inklab predict --json`, which reports the exact input the model saw and its softmax), with
`keras.models.load_model` on the .h5 and with onnxruntime on the .onnx, and prints the largest
difference between the probabilities, the label agreement, the file sizes and the export times.

Needs a Python environment with keras (tensorflow-cpu) and onnxruntime, outside the project:
    python -m venv ~/venvs/keras && ~/venvs/keras/bin/pip install tensorflow-cpu onnxruntime
    ~/venvs/keras/bin/python scripts/export-roundtrip.py --model resources/models/mnist \\
        --mnist /path/to/mnist --count 1000
(or `--images DIR` for a folder of image files, such as drawings saved from the pad).
"""

import argparse
import base64
import gzip
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import zlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INKLAB = [os.environ.get("NODE", "node"), os.path.join(ROOT, "bin", "inklab.mjs")]


def read_idx(path):
    """An IDX file (gzipped or not) as (dims, bytes)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return dims, data[4 + 4 * ndim :]


def write_png(path, pixels, width, height):
    """An 8-bit grayscale PNG, with the standard library only."""

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = b"".join(b"\x00" + pixels[y * width : (y + 1) * width] for y in range(height))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(rows)))
        f.write(chunk(b"IEND", b""))


def inklab(*args):
    """Runs the inklab command and returns its final JSON line."""
    result = subprocess.run([*INKLAB, *args, "--json"], capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        sys.exit(f"inklab {' '.join(args[:1])} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="an InkLab model folder")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--mnist", help="folder with t10k-images-idx3-ubyte(.gz)")
    source.add_argument("--images", help="folder of image files (drawings saved from the pad, say)")
    parser.add_argument("--count", type=int, default=1000, help="test images to compare on")
    parser.add_argument("--work", help="folder for the exports and images (default: a temp folder)")
    args = parser.parse_args()

    import numpy as np

    work = args.work or tempfile.mkdtemp(prefix="inklab-roundtrip-")
    os.makedirs(os.path.join(work, "images"), exist_ok=True)
    if args.images:
        files = sorted(
            os.path.join(args.images, n)
            for n in os.listdir(args.images)
            if n.lower().endswith((".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"))
        )[: args.count]
        if not files:
            sys.exit(f"{args.images}: no image files")
        count, what = len(files), f"images from {args.images}"
    else:
        names = [n for n in os.listdir(args.mnist) if n.startswith("t10k-images")]
        if not names:
            sys.exit(f"{args.mnist}: no t10k-images-idx3-ubyte file")
        (count, height, width), data = read_idx(os.path.join(args.mnist, names[0]))
        count = min(count, args.count)
        files = []
        for i in range(count):
            path = os.path.join(work, "images", f"{i:05d}.png")
            write_png(path, data[i * 784 : (i + 1) * 784], width, height)
            files.append(path)
        what = "MNIST test images"

    exports = {}
    for fmt, name in (("keras", "model.h5"), ("onnx", "model.onnx")):
        out = os.path.join(work, name)
        started = time.perf_counter()
        result = inklab("export", "--model", args.model, "--format", fmt, "--out", out)
        exports[fmt] = dict(result, wall=time.perf_counter() - started)

    predicted = inklab("predict", "--model", args.model, *files)["predictions"]
    inputs = np.stack(
        [np.frombuffer(base64.b64decode(p["input"]), np.uint8) for p in predicted]
    ).reshape(-1, 28, 28, 1).astype(np.float32) / 255.0
    ours = np.array([p["probabilities"] for p in predicted], np.float32)

    import keras
    import onnxruntime as ort

    started = time.perf_counter()
    model = keras.models.load_model(exports["keras"]["path"], compile=False)
    keras_load = time.perf_counter() - started
    by_keras = model.predict(inputs, verbose=0)
    session = ort.InferenceSession(exports["onnx"]["path"], providers=["CPUExecutionProvider"])
    by_onnx = session.run(None, {"input": inputs})[0]
    labels = json.loads(session.get_modelmeta().custom_metadata_map["labels"])

    def agree(a, b):
        return float((a.argmax(1) == b.argmax(1)).mean())

    print(f"model {args.model}: {count} {what}, {len(labels)} labels, keras {keras.__version__}, onnxruntime {ort.__version__}")
    print(f"  max |InkLab - Keras| {np.abs(ours - by_keras).max():.2e}  labels agree {agree(ours, by_keras):.4f}")
    print(f"  max |InkLab - ONNX|  {np.abs(ours - by_onnx).max():.2e}  labels agree {agree(ours, by_onnx):.4f}")
    print(f"  max |Keras - ONNX|   {np.abs(by_keras - by_onnx).max():.2e}")
    for fmt, e in exports.items():
        print(f"  {fmt:5}  {e['bytes'] / 1e3:8.1f} kB  export {e['seconds']:.2f} s (command {e['wall']:.2f} s)")
    print(f"  keras.models.load_model {keras_load:.2f} s")


if __name__ == "__main__":
    main()
