"""cuBLAS fp32 baseline for bench/matmul.ts: times torch.matmul on the same shapes.

    python3 tools/bench_matmul_torch.py OURS.json [OUT.json]

OURS.json is a result of `node dist/node/bench.js matmul` (bench/results/matmul-<adapter>.json);
its rows give the shapes (batch, m, n, k, transA, transB), so both sides time the same
products. TF32 is off (true fp32 FMA, like the WGSL kernel). A transposed operand is a
transposed view of the stored matrix, as cuBLAS takes it. Rows with a packed bf16 B are
timed with an fp32 B (torch has no fp32×bf16 product). Each time is the median over 5
batches of back-to-back products (each batch ≥ 50 ms, CUDA events), after warm-up.

Writes to OUT.json (else prints) one JSON document: per shape, our GFLOP/s for
the plan the run used and for every plan it timed (with `--variants all`), the plan the
per-shape winners make planMatmul pick (`tuned_plan`: the fastest correct tiled variant
once matmul-tuning.ts holds this run's winners; the split-k plan as run for few rows),
torch's GFLOP/s, and ours / torch for both.
"""

import json
import statistics
import sys

import torch


def operand(batch: int, rows: int, cols: int, transposed: bool, gen: torch.Generator) -> torch.Tensor:
    """A batch of rows×cols matrices; stored cols×rows and viewed transposed when `transposed`."""
    shape = (batch, cols, rows) if transposed else (batch, rows, cols)
    x = torch.rand(shape, generator=gen, device="cuda", dtype=torch.float32) * 2 - 1
    return x.transpose(-1, -2) if transposed else x


def time_matmul(a: torch.Tensor, b: torch.Tensor, out: torch.Tensor) -> float:
    """Median seconds per product."""
    for _ in range(3):
        torch.matmul(a, b, out=out)
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    torch.matmul(a, b, out=out)
    end.record()
    end.synchronize()
    runs = max(1, min(500, int(0.05 / max(start.elapsed_time(end) / 1e3, 1e-6)) + 1))
    times = []
    for _ in range(5):
        start.record()
        for _ in range(runs):
            torch.matmul(a, b, out=out)
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1e3 / runs)
    return statistics.median(times)


def rounded(x):
    return None if x is None else round(x, 1)


def ours_fields(r: dict) -> dict:
    """One row of our results: the plan run, the plan the run's winners select, every plan timed."""
    tiled = r.get("plan") is not None and not r["plan"].startswith("skinny")
    variants = {r["plan"]: rounded(r.get("gflops"))} if r.get("plan") else {}
    variants.update({key[: -len(" gflops")]: rounded(v) for key, v in r.items() if key.endswith(" gflops")})
    tuned = r.get("bestTiled") if tiled and r.get("bestTiled") else r.get("plan")
    out = {key: r[key] for key in ("shape", "batch", "m", "n", "k", "transA", "transB", "bDtype", "plan")}
    out.update(
        {
            "ours_gflops": rounded(r.get("gflops")),
            "ours_ms": None if r.get("ms") is None else round(r["ms"], 4),
            "tuned_plan": tuned,
            "tuned_gflops": variants.get(tuned),
            "best": r.get("best"),
            "best_gflops": rounded(r.get("bestGflops")),
            "variants": variants,
        }
    )
    errors = {key[: -len(" error")]: v for key, v in r.items() if key.endswith(" error")}
    if errors:
        out["errors"] = errors
    if r.get("wrong"):
        out["wrong"] = r["wrong"]
    return out


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    with open(sys.argv[1]) as f:
        ours = json.load(f)
    gen = torch.Generator(device="cuda").manual_seed(0)
    rows = []
    for r in ours["rows"]:
        batch, m, n, k = r["batch"], r["m"], r["n"], r["k"]
        a = operand(batch, m, k, r["transA"], gen)
        b = operand(batch, k, n, r["transB"], gen)
        out = torch.empty((batch, m, n), device="cuda", dtype=torch.float32)
        seconds = time_matmul(a, b, out)
        flop = 2 * batch * m * n * k
        torch_gflops = flop / seconds / 1e9
        rows.append({**ours_fields(r), "torch_gflops": round(torch_gflops, 1), "torch_ms": round(seconds * 1e3, 4)})
        for mine, ratio in (("ours_gflops", "ratio"), ("tuned_gflops", "ratio_tuned")):
            rows[-1][ratio] = round(rows[-1][mine] / torch_gflops, 3) if rows[-1][mine] else None
        del a, b, out
        torch.cuda.empty_cache()
    doc = {
        "suite": "matmul",
        "ours": {"adapter": ours.get("adapter"), "timing": ours.get("timing"), "dawnFlags": ours.get("dawnFlags"), "date": ours.get("date")},
        "made_by": "node dist/node/bench.js matmul --device webgpu --variants all --tuning matmul-tuning.ts, then python3 tools/bench_matmul_torch.py <its json> (same GPU)",
        "torch": {
            "version": torch.__version__,
            "device": torch.cuda.get_device_name(),
            "timing": "CUDA events; median of 5 batches, each >= 50 ms of back-to-back torch.matmul, after warm-up",
            "precision": "fp32, TF32 off (bf16-B rows timed with an fp32 B)",
        },
        "rows": rows,
    }
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as f:
            f.write(text + "\n")
        for r in rows:  # the document went to the file: a summary line per shape
            print(f"{r['shape']:24} ran {r['plan']} {r['ratio']}x torch; tuned {r['tuned_plan']} {r['ratio_tuned']}x ({r['tuned_gflops']} vs {r['torch_gflops']} GFLOP/s)")
    else:
        print(text)


if __name__ == "__main__":
    main()
