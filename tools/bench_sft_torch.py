"""PyTorch eager fp32 (TF32 off) twin of bench/sft.ts: one full-fine-tuning step (forward, backward,
clip_grad_norm_, AdamW; vision frozen) of the same Qwen2.5-VL shapes with random weights.
Prints one JSON line per case (each shape fully labelled, and the 0.5B one with the loss on its answer half only): ms_per_step (median of the timed steps after the warm-up ones, as SFT_SHAPES says), tokens_per_s, peak_gib.
The shapes are tools/bench_models.py's."""
import json
import time

import torch
from transformers import Qwen2_5_VLForConditionalGeneration

from bench_models import SHAPES, config

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
# (row name, shape, prompt tokens: labels -100, no loss on them), as bench/sft.ts's sftCases.
CASES = [("tiny", "tiny", 0), ("0.5B", "0.5B", 0), ("0.5B answer-only", "0.5B", SHAPES["0.5B"][0] // 2)]
for name, shape, prompt in CASES:
    tokens, _, _, warmup, timed = SHAPES[shape]
    model = Qwen2_5_VLForConditionalGeneration(config(shape)).cuda().float().train()
    for n, p in model.named_parameters():
        p.requires_grad_(not (n.startswith("model.visual.") and not n.startswith("model.visual.merger.")))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-5, weight_decay=0.0)
    ids = torch.randint(1, 110, (1, tokens), device="cuda")
    labels = ids.clone()
    labels[:, :prompt] = -100
    torch.cuda.reset_peak_memory_stats()
    times = []
    for i in range(warmup + timed):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss.item()
        torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    s = sorted(times)[len(times) // 2]
    print(json.dumps({"model": name, "params": sum(p.numel() for p in model.parameters()), "tokens": tokens, "labelled": tokens - prompt, "ms_per_step": s * 1000,
                      "tokens_per_s": tokens / s, "peak_gib": torch.cuda.max_memory_allocated() / 2**30}))
    del model, opt
    torch.cuda.empty_cache()
