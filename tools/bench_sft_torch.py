"""PyTorch eager fp32 (TF32 off) twin of bench/sft.ts: one full-fine-tuning step (forward, backward,
clip_grad_norm_, AdamW; vision frozen) of the same Qwen2.5-VL shapes with random weights.
Prints one JSON line per shape: ms_per_step (median of the timed steps after the warm-up ones, as SFT_SHAPES says), tokens_per_s, peak_gib.
The shapes are tools/bench_models.py's."""
import json
import time

import torch
from transformers import Qwen2_5_VLForConditionalGeneration

from bench_models import SHAPES, config

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
for name, (tokens, _, _, warmup, timed) in SHAPES.items():
    model = Qwen2_5_VLForConditionalGeneration(config(name)).cuda().float().train()
    for n, p in model.named_parameters():
        p.requires_grad_(not (n.startswith("model.visual.") and not n.startswith("model.visual.merger.")))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-5, weight_decay=0.0)
    ids = torch.randint(1, 110, (1, tokens), device="cuda")
    torch.cuda.reset_peak_memory_stats()
    times = []
    for i in range(warmup + timed):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss.item()
        torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    s = sorted(times)[len(times) // 2]
    print(json.dumps({"model": name, "params": sum(p.numel() for p in model.parameters()), "tokens": tokens, "ms_per_step": s * 1000,
                      "tokens_per_s": tokens / s, "peak_gib": torch.cuda.max_memory_allocated() / 2**30}))
    del model, opt
    torch.cuda.empty_cache()
