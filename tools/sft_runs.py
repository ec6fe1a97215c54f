"""Pairs the SFT step runs tools/gpu_bench.sh made (DIR/sft-run<k>/: our bench JSON and torch.jsonl)
and prints one JSON object: per shape, every run's ms per step on both sides, their medians and the
ratio of medians (torch / ours), with our host-recording and wait medians per run.

    python3 tools/sft_runs.py DIR > DIR/sft-runs.json"""
import glob
import json
import os
import statistics
import sys

root = sys.argv[1]
runs = sorted((d for d in glob.glob(os.path.join(root, "sft-run[0-9]*")) if os.path.isdir(d)), key=lambda d: int(d.rsplit("run", 1)[1]))
if not runs:
    sys.exit(f"sft_runs: no sft-run* directories under {root}")
shapes = {}
adapter = None
for d in runs:
    ours_files = [f for f in glob.glob(os.path.join(d, "sft-*.json"))]
    if len(ours_files) != 1:
        sys.exit(f"sft_runs: {d} should hold exactly one sft-<adapter>.json, found {len(ours_files)}")
    ours = json.load(open(ours_files[0]))
    adapter = ours.get("adapter", adapter)
    torch_rows = {r["model"]: r for r in map(json.loads, open(os.path.join(d, "torch.jsonl")))}
    for row in ours["rows"]:
        s = shapes.setdefault(row["model"], {"ours_ms": [], "torch_ms": [], "ours_record_ms": [], "ours_wait_ms": [], "ours_peak_gib": row["peak_gib"]})
        s["ours_ms"].append(row["ms_per_step"])
        s["ours_record_ms"].append(row["record_ms"])
        s["ours_wait_ms"].append(row["wait_ms"])
        t = torch_rows[row["model"]]
        s["torch_ms"].append(t["ms_per_step"])
        s["torch_peak_gib"] = t["peak_gib"]
for s in shapes.values():
    s["ours_median_ms"] = statistics.median(s["ours_ms"])
    s["torch_median_ms"] = statistics.median(s["torch_ms"])
    s["ratio_of_medians"] = s["torch_median_ms"] / s["ours_median_ms"]
    s["ratio_per_run"] = [t / o for o, t in zip(s["ours_ms"], s["torch_ms"])]
print(json.dumps({"runs": len(runs), "adapter": adapter, "timing": "each run a fresh process per side, ours then torch; ms_per_step as bench/sft.ts and tools/bench_sft_torch.py define it", "shapes": shapes}, indent=1))
