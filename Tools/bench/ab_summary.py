"""Prints an interleaved A/B run's pairs: ab_summary.py OUT BEFORE AFTER TITLE KEY[=LABEL]...

OUT holds lines "SIDE JSON" (SIDE is BEFORE or AFTER, as written by ab_pairs.sh's callers);
for every KEY of the JSON objects it prints each pair's before and after value and their
after/before ratio, then the median ratio per key (< 1: the after side is faster)."""
import json
import statistics
import sys

out, before, after, title, *keys = sys.argv[1:]
keys = [(k.split("=", 1) + [k])[:2] for k in keys]
rows = [line.split(" ", 1) for line in open(out) if line.strip()]
b = [json.loads(j) for side, j in rows if side == before]
a = [json.loads(j) for side, j in rows if side == after]
print(title)
print("pair" + "".join(f"  {l + ' ' + before:>14} {l + ' ' + after:>14}  ratio" for _, l in keys))
ratios = {k: [] for k, _ in keys}
for i, (x, y) in enumerate(zip(b, a)):
    cells = []
    for k, _ in keys:
        r = y[k] / x[k]
        ratios[k].append(r)
        cells.append(f"  {x[k]:14.3f} {y[k]:14.3f} {r:6.3f}")
    print(f"{i + 1:4d}" + "".join(cells))
print(f"median {after}/{before}: " + ", ".join(f"{l} {statistics.median(ratios[k]):.3f}" for k, l in keys))
