"""PyTorch fp32 baseline for bench/attention.ts: times torch SDPA on the same shapes and GPU.

    python3 tools/bench_attention_torch.py OURS.json [OUT.json]

OURS.json is a result of `node dist/node/bench.js attention --device webgpu`; its rows give the shapes
(tokens, seqs, hq, hkv, d, causal: seqs equal sequences packed into tokens). Each shape is timed with
torch.nn.functional.scaled_dot_product_attention in fp32 (TF32 off), forward and forward+backward
(torch.autograd.grad of the output, with a given output gradient, for q, k and v), in every way torch
offers, and the fastest forward+backward is the baseline:
  auto       torch's own backend choice (enable_gqa=True when kv heads < query heads);
  efficient  the memory-efficient kernel pinned (sdpa_kernel(EFFICIENT_ATTENTION)); with fewer kv heads,
             k and v are repeated to the query heads inside the timed region (that is part of the work).
Equal-length packed sequences (the vision windows) run as a batch of sequences, torch's fastest form.
Each time is the median over 5 batches of back-to-back runs (each batch >= 50 ms, CUDA events), after
warm-up. Prints (and writes to OUT.json, if given) per shape our ms, torch's, and torch_ms / ours_ms
(above 1: we are faster).
"""

import json
import statistics
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel


def time_fn(fn) -> float:
    """Median seconds per call."""
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    fn()
    end.record()
    end.synchronize()
    runs = max(1, min(500, int(0.05 / max(start.elapsed_time(end) / 1e3, 1e-6)) + 1))
    times = []
    for _ in range(5):
        start.record()
        for _ in range(runs):
            fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1e3 / runs)
    return statistics.median(times)


def variants(row):
    seqs, tokens, hq, hkv, d, causal = row["seqs"], row["tokens"], row["hq"], row["hkv"], row["d"], row["causal"]
    length = tokens // seqs
    gen = torch.Generator(device="cuda").manual_seed(0)
    rand = lambda *s: torch.rand(*s, generator=gen, device="cuda", dtype=torch.float32) * 2 - 1
    q, k, v = rand(seqs, hq, length, d), rand(seqs, hkv, length, d), rand(seqs, hkv, length, d)
    g = rand(seqs, hq, length, d)
    for t in (q, k, v):
        t.requires_grad_(True)
    rep = hq // hkv

    def auto():
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=rep > 1)

    def efficient():
        kk, vv = (k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)) if rep > 1 else (k, v)
        with sdpa_kernel(SDPBackend.EFFICIENT_ATTENTION):
            return F.scaled_dot_product_attention(q, kk, vv, is_causal=causal)

    for name, fwd in (("auto", auto), ("efficient", efficient)):
        yield name, fwd, lambda fwd=fwd: torch.autograd.grad(fwd(), (q, k, v), g)


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    with open(sys.argv[1]) as f:
        ours = json.load(f)
    rows = []
    for r in ours["rows"]:
        if "fwd_ms" not in r:
            continue
        out = {k: r[k] for k in ("shape", "tokens", "seqs", "hq", "hkv", "d", "causal", "fwd_ms", "fwdbwd_ms", "fwd_tflops", "fwdbwd_tflops", "sampledErr")}
        best = None
        for name, fwd, fwdbwd in variants(r):
            try:
                with torch.no_grad():
                    f_s = time_fn(fwd)
                fb_s = time_fn(fwdbwd)
            except RuntimeError as e:
                out[f"torch_{name}_error"] = str(e)[:200]
                continue
            out[f"torch_{name}_fwd_ms"] = f_s * 1e3
            out[f"torch_{name}_fwdbwd_ms"] = fb_s * 1e3
            if best is None or fb_s < best[2]:
                best = (name, f_s, fb_s)
            torch.cuda.empty_cache()
        if best:
            name, f_s, fb_s = best
            out.update({"torch_best": name, "torch_fwd_ms": f_s * 1e3, "torch_fwdbwd_ms": fb_s * 1e3,
                        "fwd_ratio": f_s * 1e3 / r["fwd_ms"], "fwdbwd_ratio": fb_s * 1e3 / r["fwdbwd_ms"]})
        rows.append(out)
        print(json.dumps(out), flush=True)
    doc = {
        "suite": "attention",
        "ours": {k: ours.get(k) for k in ("adapter", "timing", "dawnFlags", "date")},
        "tuning": [r for r in ours["rows"] if "fwd_ms" not in r],
        "torch": {
            "version": torch.__version__,
            "device": torch.cuda.get_device_name(),
            "timing": "CUDA events; median of 5 batches, each >= 50 ms of back-to-back runs, after warm-up",
            "precision": "fp32, TF32 off",
        },
        "ratio": "torch_ms / ours_ms for the fastest torch variant by forward+backward (above 1: ours is faster)",
        "rows": rows,
    }
    text = json.dumps(doc, indent=2)
    print(text)
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
