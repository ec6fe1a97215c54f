"""Makes the bundled demo (demo/): a small set of text-only medical reasoning cases and a tiny
Qwen2.5-VL that knows the medical vocabulary but not the reasoning format — the starting point
MedE²'s Stage I assumes. Run on the GPU machine (transformers, tokenizers, torch):

    python3 tools/demo/make_demo.py OUTDIR [--data-only]   # writes OUTDIR/demo/{model,data}

  data/train.jsonl, data/eval.jsonl  2000 / 60 {"id","question","options","reasoning","answer"} cases generated
                                     from a table of conditions and their findings
  model/                              byte-level BPE tokenizer (Qwen2 pre-tokenizer, chat template of
                                     Qwen2-VL), and a tiny Qwen2.5-VL pretrained for a few hundred
                                     steps on plain statements about the same conditions, saved bf16
"""
import json
import os
import random
import sys

OUT = os.path.join(sys.argv[1], "demo")
DATA_ONLY = "--data-only" in sys.argv  # the cases need no torch: regenerate them anywhere
rng = random.Random(2025)

CONDITIONS = {
    "pneumonia": (["fever", "productive cough", "lobar consolidation on chest X-ray", "crackles over one lobe"], "infection fills the alveoli of one lobe"),
    "pneumothorax": (["sudden pleuritic chest pain", "absent breath sounds on one side", "a visible pleural line without lung markings"], "air in the pleural space collapses the lung"),
    "heart failure": (["orthopnea", "bilateral basal crackles", "cardiomegaly with Kerley B lines", "leg edema"], "the heart cannot keep up and fluid backs into the lungs"),
    "pleural effusion": (["dullness to percussion at one base", "a blunted costophrenic angle", "reduced breath sounds at the base"], "fluid collects in the pleural space"),
    "appendicitis": (["right lower quadrant pain", "rebound tenderness", "a non-compressible appendix on ultrasound"], "the appendix is inflamed"),
    "cholecystitis": (["right upper quadrant pain after fatty meals", "a positive Murphy sign", "gallbladder wall thickening with stones"], "the gallbladder is inflamed by a blocked duct"),
    "ischemic stroke": (["sudden one-sided weakness", "facial droop", "a hypodense arterial territory on CT"], "an artery to the brain is blocked"),
    "intracranial hemorrhage": (["a thunderclap headache", "hyperdense blood on head CT", "sudden loss of consciousness"], "blood has leaked inside the skull"),
    "fracture": (["recent trauma", "point tenderness over the bone", "a cortical break on the radiograph"], "the bone is broken"),
    "kidney stone": (["colicky flank pain", "blood in the urine", "a hyperdense calculus in the ureter on CT"], "a stone blocks the ureter"),
    "pulmonary embolism": (["sudden dyspnea", "tachycardia", "a filling defect in the pulmonary artery on CT angiography"], "a clot blocks a lung artery"),
    "bowel obstruction": (["vomiting", "abdominal distension", "dilated loops with air-fluid levels on X-ray"], "the bowel is blocked"),
}
NAMES = sorted(CONDITIONS)
AGES = list(range(19, 86))
PEOPLE = ["man", "woman"]


def case(i):
    cond = rng.choice(NAMES)
    findings, mechanism = CONDITIONS[cond]
    shown = rng.sample(findings, 2)
    distractors = rng.sample([n for n in NAMES if n != cond], 3)
    options = distractors + [cond]
    rng.shuffle(options)
    letter = "ABCD"[options.index(cond)]
    other = distractors[0]
    question = (f"A {rng.choice(AGES)}-year-old {rng.choice(PEOPLE)} has {shown[0]} and {shown[1]}. "
                f"What is the most likely diagnosis?")
    reasoning = (f"The key findings are {shown[0]} and {shown[1]}. Together they point to {cond}, because {mechanism}. "
                 f"Check: {other} would show {CONDITIONS[other][0][0]}, which is not described. "
                 f"Among the options, {cond} is {letter}. So the answer is {letter}.")
    return {"id": f"case-{i:04d}", "question": question, "options": options, "reasoning": reasoning, "answer": letter}


# The first 360 cases (eval = the last 60 of them) also feed the tokenizer; the rest only add training cases.
first = [case(i) for i in range(360)]
# Plain statements: the vocabulary and facts, never the question/answer format.
statements = []
for _ in range(3000):
    # Lettered lists, so the model can already point at an entry by its letter.
    names = rng.sample(NAMES, 4)
    k = rng.randrange(4)
    statements.append("\n".join(f"{'ABCD'[j]}. {n}" for j, n in enumerate(names)) + f"\nIn this list, {names[k]} is {'ABCD'[k]}.")
for _ in range(3000):
    cond = rng.choice(NAMES)
    findings, mechanism = CONDITIONS[cond]
    statements.append(rng.choice([
        f"{cond.capitalize()} often presents with {rng.choice(findings)} and {rng.choice(findings)}.",
        f"In {cond}, {mechanism}.",
        f"A patient with {rng.choice(findings)} may have {cond}.",
        f"{rng.choice(findings).capitalize()} is a sign of {cond}, unlike {rng.choice([n for n in NAMES if n != cond])}.",
    ]))

rest = [case(i) for i in range(360, 2060)]
os.makedirs(os.path.join(OUT, "data"), exist_ok=True)
for name, part in (("train", first[:300] + rest), ("eval", first[300:])):  # ~2,000 Stage-I cases, as the paper uses
    with open(os.path.join(OUT, "data", f"{name}.jsonl"), "w") as f:
        for c in part:
            f.write(json.dumps(c) + "\n")

if DATA_ONLY:
    sys.exit(0)

import torch  # noqa: E402
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers  # noqa: E402
from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration  # noqa: E402

torch.manual_seed(2025)

template = json.load(open("test/fixtures/tokenizer/qwen2/tokenizer_config.json"))["chat_template"]
specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]
tok = Tokenizer(models.BPE())
tok.normalizer = normalizers.NFC()
QWEN2_PATTERN = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated"),
                                             pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
tok.decoder = decoders.ByteLevel()
corpus = statements + [json.dumps(c) for c in first] + [c["reasoning"] for c in first] + ["<think></think>\n<answer></answer> A B C D system user assistant You are a helpful assistant."]
tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=1000, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
model_dir = os.path.join(OUT, "model")
os.makedirs(model_dir, exist_ok=True)
tok.save(os.path.join(model_dir, "tokenizer.json"))
ids = {s: tok.token_to_id(s) for s in specials}
json.dump({"tokenizer_class": "Qwen2Tokenizer", "chat_template": template, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
           "model_max_length": 2048, "add_bos_token": False},
          open(os.path.join(model_dir, "tokenizer_config.json"), "w"), indent=2)
json.dump({"min_pixels": 3136, "max_pixels": 200704, "patch_size": 14, "temporal_patch_size": 2, "merge_size": 2,
           "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711],
           "image_processor_type": "Qwen2VLImageProcessor"}, open(os.path.join(model_dir, "preprocessor_config.json"), "w"), indent=2)

vocab = tok.get_vocab_size()
cfg = Qwen2_5_VLConfig(
    text_config=dict(vocab_size=vocab, hidden_size=96, intermediate_size=256, num_hidden_layers=4, num_attention_heads=4,
                     num_key_value_heads=2, rms_norm_eps=1e-6, max_position_embeddings=2048, tie_word_embeddings=True,
                     rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 5, 5]},
                     bos_token_id=None, eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"]),
    vision_config=dict(depth=1, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=96, patch_size=14,
                       spatial_merge_size=2, temporal_patch_size=2, window_size=112, fullatt_block_indexes=[0], hidden_act="silu"),
    image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"], vision_start_token_id=ids["<|vision_start|>"],
    vision_end_token_id=ids["<|vision_end|>"], tie_word_embeddings=True)
model = Qwen2_5_VLForConditionalGeneration(cfg).cuda().train()
opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
eos = ids["<|endoftext|>"]
stream = []
for s in statements:
    stream += tok.encode(s + " ").ids
stream = torch.tensor(stream)
for step in range(1000):
    starts = torch.randint(0, len(stream) - 129, (32,))
    batch = torch.stack([stream[s:s + 128] for s in starts]).cuda()
    loss = model(input_ids=batch, labels=batch).loss
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 200 == 0 or step == 999:
        print("pretrain step", step, "loss", round(loss.item(), 4))
model.eval().to(torch.bfloat16).save_pretrained(model_dir, safe_serialization=True)
print("vocab", vocab, "params", sum(p.numel() for p in model.parameters()))
print(sorted(os.listdir(model_dir)), sum(os.path.getsize(os.path.join(model_dir, f)) for f in os.listdir(model_dir)))
