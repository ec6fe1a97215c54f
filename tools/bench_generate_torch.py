"""PyTorch eager fp32 (TF32 off) twin of bench/generate.ts: transformers' greedy generate() with its
KV cache on the same Qwen2.5-VL shapes with random weights, the same prompt and token counts.

    python3 tools/bench_generate_torch.py OURS.json [OUT.json]

OURS.json is a result of `node dist/node/bench.js generate`; its rows give the shapes (model, prompt,
new_tokens). Prefill is the time to the first new token, decode ms per token after it (a streamer
stamps each token as generate() emits it); medians of 3 generations after a warm-up one. Writes to
OUT.json (else prints) our rows with torch's numbers and torch_ms / ours_ms beside them.
"""
import json
import statistics
import sys
import time

import torch
from transformers import Qwen2_5_VLForConditionalGeneration

from bench_models import config

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
RUNS = 3


class Stamps:
    """A generate() streamer that records when each new token arrives (the first put() is the prompt)."""

    def __init__(self):
        self.times = []
        self.prompt_seen = False

    def put(self, value):
        if not self.prompt_seen:
            self.prompt_seen = True
            return
        torch.cuda.synchronize()
        self.times.append(time.perf_counter())

    def end(self):
        pass


def main() -> None:
    with open(sys.argv[1]) as f:
        ours = json.load(f)
    rows = []
    for r in ours["rows"]:
        model = Qwen2_5_VLForConditionalGeneration(config(r["model"])).cuda().float().eval()
        gen = torch.Generator(device="cpu").manual_seed(3)
        ids = torch.randint(1, 111, (1, r["prompt"]), generator=gen).cuda()
        n = r["new_tokens"]
        prefill, decode = [], []
        for run in range(RUNS + 1):
            stamps = Stamps()
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            with torch.no_grad():
                out = model.generate(input_ids=ids, max_new_tokens=n, min_new_tokens=n, do_sample=False, streamer=stamps, eos_token_id=None, pad_token_id=0)
            assert out.shape[1] - ids.shape[1] == n and len(stamps.times) == n, (out.shape, len(stamps.times))
            if run == 0:
                continue
            prefill.append((stamps.times[0] - t0) * 1e3)
            decode.append((stamps.times[-1] - stamps.times[0]) * 1e3 / (n - 1))
        row = dict(r)
        row.update(torch_prefill_ms=statistics.median(prefill), torch_decode_ms_per_token=statistics.median(decode))
        row.update(prefill_ratio=row["torch_prefill_ms"] / r["prefill_ms"], decode_ratio=row["torch_decode_ms_per_token"] / r["decode_ms_per_token"])
        rows.append(row)
        print(json.dumps(row), flush=True)
        del model
        torch.cuda.empty_cache()
    doc = {
        "suite": "generate",
        "ours": {k: ours.get(k) for k in ("adapter", "timing", "date")},
        "torch": {"version": torch.__version__, "device": torch.cuda.get_device_name(), "timing": f"wall clock with a synchronize per token, median of {RUNS} generations after a warm-up one", "precision": "fp32, TF32 off"},
        "ratio": "torch_ms / ours_ms (above 1: ours is faster)",
        "rows": rows,
    }
    text = json.dumps(doc, indent=1)
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
