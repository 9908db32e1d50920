#!/usr/bin/env bash
# Runs the ONNX backend conformance selection through `gannet test-onnx`.
#
# Usage: Tools/conformance/run.sh [SECTION…]      (default: tier1; e.g. tier1 tier2)
# Env:   GANNET=path/to/gannet (default .build/release/gannet)
#        PYTHON=python with onnx==1.22.0 (default .venv/bin/python, then python3)
#        SELECT=selection file (default: ../shared/reference/onnx-select.txt beside the repository,
#               as in CI where shared/ is copied next to the clone; then /work/shared/reference/…)
#        DATA=onnx/backend/test/data directory (default: found in the python's onnx package)
# Each case runs in its own process, so a crash counts as one failure instead of ending the
# run. Prints gannet's PASS/FAIL lines, then per section "SECTION: N passed, N failed".
# Exit status is non-zero when any case failed.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
GANNET="${GANNET:-$root/.build/release/gannet}"
if [[ -z "${SELECT:-}" ]]; then
    SELECT="$root/../shared/reference/onnx-select.txt"
    [[ -f "$SELECT" ]] || SELECT="/work/shared/reference/onnx-select.txt"
fi
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x "$root/.venv/bin/python" ]]; then PYTHON="$root/.venv/bin/python"; else PYTHON=python3; fi
fi
if [[ -z "${DATA:-}" ]]; then
    DATA="$("$PYTHON" -c "import onnx,os;print(os.path.join(os.path.dirname(onnx.__file__),'backend','test','data'))" 2>/dev/null)" || true
fi
[[ -d "${DATA:-}/node" ]] || { echo "error: no ONNX backend test data (pip install onnx==1.22.0, or set DATA)" >&2; exit 2; }
[[ -x "$GANNET" ]] || { echo "error: $GANNET not found (swift build -c release)" >&2; exit 2; }
[[ -f "$SELECT" ]] || { echo "error: selection file $SELECT not found" >&2; exit 2; }
sections=("$@")
[[ ${#sections[@]} -eq 0 ]] && sections=(tier1)

status=0
for section in "${sections[@]}"; do
    mapfile -t cases < <(awk -v s="[$section]" '
        /^\[/ { on = ($1 == s); next }
        on { sub(/#.*/, ""); gsub(/[ \t]+/, ""); if ($0 != "") print }' "$SELECT")
    if [[ ${#cases[@]} -eq 0 ]]; then echo "error: no cases in section [$section]" >&2; status=2; continue; fi
    pass=0; fail=0
    for c in "${cases[@]}"; do
        name="$(basename "$c")"
        if [[ ! -d "$DATA/$c" ]]; then echo "FAIL $name: no directory $DATA/$c"; fail=$((fail + 1)); continue; fi
        out="$("$GANNET" test-onnx "$DATA/$c" 2>&1)"
        rc=$?
        line="$(grep -E '^(PASS|FAIL) ' <<<"$out" | head -1)"
        if [[ $rc -eq 0 && "$line" == PASS* ]]; then
            echo "$line"; pass=$((pass + 1))
        elif [[ -n "$line" ]]; then
            echo "$line"; fail=$((fail + 1))
        else
            echo "FAIL $name: gannet exited with status $rc: $(tail -1 <<<"$out")"; fail=$((fail + 1))
        fi
    done
    echo "$section: $pass passed, $fail failed"
    [[ $fail -gt 0 ]] && status=1
done
exit $status
