"""PyTorch eager fp32 (TF32 off) twin of bench/sft.ts: one full-fine-tuning step (forward, backward,
clip_grad_norm_, AdamW; vision frozen) of the same Qwen2.5-VL shapes with random weights.
Prints one JSON line per shape: ms_per_step (median of the timed steps after the warm-up ones, as SFT_SHAPES says), tokens_per_s, peak_gib.
Keep SHAPES in step with SFT_SHAPES in bench/sft.ts."""
import json
import time

import torch
from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
SHAPES = {  # name: (tokens, text config, mrope section, warm-up steps, timed steps)
    "tiny": (256, dict(vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2), [2, 3, 3], 200, 50),
    "0.5B": (2048, dict(vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2), [8, 12, 12], 2, 5),
}
for name, (tokens, text, mrope, warmup, timed) in SHAPES.items():
    tied = name == "0.5B"
    cfg = Qwen2_5_VLConfig(
        text_config=dict(**text, rms_norm_eps=1e-6, tie_word_embeddings=tied, rope_parameters={"rope_type": "default", "rope_theta": 1e6, "mrope_section": mrope}),
        vision_config=dict(depth=1, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=text["hidden_size"], fullatt_block_indexes=[0]),
        image_token_id=120, video_token_id=121, vision_start_token_id=118, vision_end_token_id=119, tie_word_embeddings=tied)
    model = Qwen2_5_VLForConditionalGeneration(cfg).cuda().float().train()
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
