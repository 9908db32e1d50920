#!/usr/bin/env bash
# Interop checks: Gannet against ONNX Runtime, Pillow, TensorBoard and scipy.
#
# Usage: Tools/interop/run.sh            (after `swift build -c release`; the GIF and
#                                         TensorBoard checks run `swift test -c release`)
# Env:   GANNET=path/to/gannet (default .build/release/gannet)
#        KEEP=1 keeps the scratch directory (printed at the end)
#
# Checks, one line each ("ok   NAME: detail" or "FAIL NAME: reason"):
#   export/SPEC/NETWORK/bB  for every seed spec (mnist_gan, mnist_wgangp, mnist_cwgangp,
#       cifar10_wgangp, dcgan_mnist64) and each of its networks: `gannet convert SPEC --out DIR`
#       (randomly initialised weights), seeded inputs at batch B = 1 and 2 (float latents or
#       images ~ N(0,1); int64 labels uniform in [0, classes)), `gannet run`, then
#       check_export.py: onnx.checker full_check, ONNX Runtime run, every output within
#       rtol 1e-4 (atol 1e-5) of Gannet's.
#   gif          GIFInteropExport (swift test) writes GIFs + raw frames; check_gif.py decodes
#                them with Pillow and compares pixel by pixel.
#   tensorboard  TensorBoardTests/testWriteInteropSample writes event files;
#                check_tensorboard.py reads them with TensorBoard's loaders.
#   fid          check_fid.py --verify: the committed Metrics fixtures (which MetricsTests
#                compare Gannet's FID/PRDC with) equal what scipy computes now.
#   inception-fid check_inception_fid.py (torch + pytorch-fid; TORCH_PYTHON) writes a random-weight
#                FID Inception ONNX file, images and pytorch-fid's features/FID;
#                MetricsTests/InceptionInteropTests compares Gannet's within 1e-3 relative.
#   zoo/KEY/bB   Tools/interop/zoo.sh (its CI set): PyTorch exports (TorchScript opset 17 and
#                dynamo opset 18, dynamic batch) of GAN generators and CNNs, run in Gannet and
#                ONNX Runtime at batch 2, 3 and 32 (rtol 1e-4, atol 1e-5; at 32 the memory-bound
#                ones run in chunks, Program+BatchChunks); `zoo.sh --all` checks the
#                whole zoo. ZOO=0 skips it.
# PyTorch-exported seed networks (issue 3 item 5b) are checked by the Swift test
# ONNXTests/TorchSeedNetTests on committed fixtures (Tools/fixtures/make_torch_seed_nets.py).
# Last line: "N passed, N failed"; exit status non-zero when any check failed.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
GANNET="${GANNET:-$root/.build/release/gannet}"
[[ -x "$GANNET" ]] || { echo "error: $GANNET not found (swift build -c release)" >&2; exit 2; }
PY="$(Tools/scripts/python-env.sh)" || { echo "error: could not set up the Python venv" >&2; exit 2; }
tmp="$(mktemp -d "${TMPDIR:-/tmp}/gannet-interop.XXXXXX")"
if [[ "${KEEP:-}" != 1 ]]; then trap 'rm -rf "$tmp"' EXIT; fi

pass=0; fail=0
ok()  { echo "ok   $1: $2"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }

# swift test: reuse the release build when the test bundle exists (test-all.sh just built it).
swift_test() {
    local skip=()
    [[ -d .build/release/GannetPackageTests.xctest || -f .build/release/GannetPackageTests.xctest ]] && skip=(--skip-build)
    swift test -c release "${skip[@]}" "$@"
}

# Writes one TensorProto per graph input of MODEL into DIR (in_K.pb, named after the input)
# and prints NAME=FILE arguments, one per line.
make_inputs() {
    "$PY" - "$1" "$2" "$3" "$4" <<'EOF'
import os, sys
import numpy as np, onnx, onnx.numpy_helper as nh
model_path, out, batch, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
m = onnx.load(model_path, load_external_data=False)
meta = {p.key: p.value for p in m.metadata_props}
inits = {i.name for i in m.graph.initializer}
rng = np.random.default_rng(seed)
os.makedirs(out, exist_ok=True)
k = 0
for i in m.graph.input:
    if i.name in inits:
        continue
    tt = i.type.tensor_type
    shape = [d.dim_value if d.HasField("dim_value") else batch for d in tt.shape.dim]
    if tt.elem_type == onnx.TensorProto.FLOAT:
        a = rng.standard_normal(shape).astype(np.float32)
    elif tt.elem_type == onnx.TensorProto.INT64:
        classes = int(meta.get("gannet.num_classes", "1"))
        a = rng.integers(0, classes, size=shape, dtype=np.int64)
    else:
        sys.exit(f"input '{i.name}': cannot generate element type {tt.elem_type}")
    path = os.path.join(out, f"in_{k}.pb")
    with open(path, "wb") as f:
        f.write(nh.from_array(a, i.name).SerializeToString())
    print(f"{i.name}={path}")
    k += 1
EOF
}

# (a) Seed networks: Gannet export → ONNX Runtime.
for spec in mnist_gan mnist_wgangp mnist_cwgangp cifar10_wgangp dcgan_mnist64; do
    dir="$tmp/export/$spec"
    if ! msg="$("$GANNET" convert "Specs/$spec.yaml" --out "$dir" 2>&1)"; then
        bad "export/$spec" "gannet convert: $(tail -1 <<<"$msg")"; continue
    fi
    for model in "$dir"/*.pb; do
        net="$(basename "$model" .pb)"
        for b in 1 2; do
            name="export/$spec/$net/b$b"
            work="$dir/$net-b$b"
            if ! mapfile -t ins < <(make_inputs "$model" "$work" "$b" "$((b * 7 + ${#net}))") || [[ ${#ins[@]} -eq 0 ]]; then
                bad "$name" "could not make inputs"; continue
            fi
            args=(); files=()
            for kv in "${ins[@]}"; do args+=(--input "$kv"); files+=(--input "${kv#*=}"); done
            if ! msg="$("$GANNET" run "$model" "${args[@]}" --out "$work/out" 2>&1)"; then
                bad "$name" "gannet run: $(tail -1 <<<"$msg")"; continue
            fi
            outs=()
            for f in $(ls "$work/out"/output_*.pb | sort -V); do outs+=(--output "$f"); done
            if msg="$("$PY" Tools/interop/check_export.py "$model" "${files[@]}" "${outs[@]}" --rtol 1e-4 --atol 1e-5 2>&1)"; then
                ok "$name" "full_check, onnxruntime; $(grep -o "max |diff| [^)]*" <<<"$msg" | paste -sd, -)"
            else
                bad "$name" "$(grep -E '^FAIL' <<<"$msg" | head -1 || tail -1 <<<"$msg")"
            fi
        done
    done
done

# (b) GIF: Gannet's encoder → Pillow.
if msg="$(GANNET_GIF_OUT="$tmp/gif" swift_test --filter GIFInteropExport 2>&1)" && ls "$tmp"/gif/*.gif >/dev/null 2>&1; then
    if msg="$("$PY" Tools/interop/check_gif.py "$tmp/gif" 2>&1)"; then ok gif "$(tail -1 <<<"$msg")"
    else bad gif "$(grep -E '^FAIL' <<<"$msg" | head -1)"; fi
else
    bad gif "swift test --filter GIFInteropExport wrote no GIFs: $(tail -1 <<<"$msg")"
fi

# TensorBoard: Gannet's event writer → TensorBoard's readers.
mkdir -p "$tmp/tb"
if msg="$(GANNET_TENSORBOARD_SAMPLE_DIR="$tmp/tb" swift_test --filter TensorBoardTests/testWriteInteropSample 2>&1)" \
        && [[ -n "$(ls -A "$tmp/tb")" ]]; then
    if msg="$("$PY" Tools/interop/check_tensorboard.py "$tmp/tb" 2>&1)"; then ok tensorboard "$(grep -c '^ok' <<<"$msg") checks"
    else bad tensorboard "$(grep -E '^FAIL' <<<"$msg" | head -1 || tail -1 <<<"$msg")"; fi
else
    bad tensorboard "swift test --filter TensorBoardTests/testWriteInteropSample wrote nothing: $(tail -1 <<<"$msg")"
fi

# FID: the committed metrics fixtures against scipy.
if msg="$("$PY" Tools/interop/check_fid.py --verify 2>&1)"; then ok fid "$(tail -1 <<<"$msg")"
else bad fid "$(tail -1 <<<"$msg")"; fi

# Inception FID: pytorch-fid's network with seeded random weights, exported to ONNX at test time
# (about 95 MB, never committed), and pytorch-fid's own features, logits and FID as the oracle for
# Gannet's `--features inception:` path (MetricsTests/InceptionInteropTests, 13 images). Needs a
# Python with torch and pytorch-fid: TORCH_PYTHON, else the interop venv (python-env.sh installs both).
tpy="${TORCH_PYTHON:-$PY}"
if [[ -x "$tpy" ]] && "$tpy" -c 'import torch, onnx, pytorch_fid' 2>/dev/null; then
    if msg="$("$tpy" Tools/interop/check_inception_fid.py "$tmp/inception" 2>&1)"; then
        if out="$(GANNET_INCEPTION_INTEROP="$tmp/inception" swift_test --filter InceptionInteropTests 2>&1)" \
                && grep -q "fid_0_2: Gannet" <<<"$out"; then
            ok inception-fid "$(grep -E '^fid_0_[12]:' <<<"$out" | paste -sd';' -)"
        else
            bad inception-fid "$(grep -E 'error|failed' <<<"$out" | head -2 | paste -sd' ' -)"
        fi
    else
        bad inception-fid "check_inception_fid.py: $(tail -1 <<<"$msg")"
    fi
else
    echo "skip inception-fid: no Python with torch and pytorch-fid (set TORCH_PYTHON)"
fi

# The model zoo: PyTorch exports of real CNNs and GAN generators, Gannet against ONNX Runtime.
if [[ "${ZOO:-1}" != 0 ]]; then
    PYTHON="$PY" Tools/interop/zoo.sh 2>"$tmp/zoo.err" | tee "$tmp/zoo.out" | grep -E '^(ok   |FAIL )'
    status=${PIPESTATUS[0]}
    pass=$((pass + $(grep -c '^ok   ' "$tmp/zoo.out")))
    fail=$((fail + $(grep -c '^FAIL ' "$tmp/zoo.out")))
    if [[ $status -ne 0 ]] && ! grep -q '^FAIL ' "$tmp/zoo.out"; then
        bad zoo "Tools/interop/zoo.sh exited with status $status: $(tail -1 "$tmp/zoo.err")"
    fi
    grep -q '^FAIL ' "$tmp/zoo.out" && grep -E '^error: ' "$tmp/zoo.err" | head -5
fi

[[ "${KEEP:-}" == 1 ]] && echo "scratch directory: $tmp"
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
