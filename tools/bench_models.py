"""The Qwen2.5-VL shapes of bench/sft.ts (SFT_SHAPES, benchConfig) as transformers configs, for the
PyTorch twins of the sft and generate benchmarks. Keep SHAPES in step with SFT_SHAPES."""
from transformers import Qwen2_5_VLConfig

SHAPES = {  # name: (tokens, text config, mrope section, warm-up steps, timed steps)
    "tiny": (256, dict(vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2), [2, 3, 3], 200, 50),
    "0.5B": (2048, dict(vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2), [8, 12, 12], 2, 5),
}


def config(name: str) -> Qwen2_5_VLConfig:
    _, text, mrope, _, _ = SHAPES[name]
    tied = name == "0.5B"
    return Qwen2_5_VLConfig(
        text_config=dict(**text, rms_norm_eps=1e-6, tie_word_embeddings=tied, rope_parameters={"rope_type": "default", "rope_theta": 1e6, "mrope_section": mrope}),
        vision_config=dict(depth=1, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=text["hidden_size"], fullatt_block_indexes=[0]),
        image_token_id=120, video_token_id=121, vision_start_token_id=118, vision_end_token_id=119, tie_word_embeddings=tied)
