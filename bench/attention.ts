// Fused attention, forward and forward+backward: the Qwen2.5-VL language model's shape (16 query
// heads, 2 kv heads, head dim 128, causal, one sequence of 1k/4k/8k tokens) and the vision tower's
// window attention (16 heads, head dim 80, windows of 64 patches packed to 4096 tokens).
// TFLOP/s counts the useful work as FlashAttention does: 4·D per visible (query, key) pair and head
// forward, 2.5× that backward. Sampled outputs and gradients are checked against float64 on the CPU.
// On WebGPU the 4k shape (head dim 128) and the 0.5B model's shape (2k, 14/2 heads, head dim 64) first
// time alternative tiles for each pass (shaders/attention.wgsl) and every shape then runs with the
// fastest of its head-dim class, kept in this adapter's tuning table (`--tuning FILE.json` writes it,
// for MEDE2_ATTENTION_TUNING); the tuning rows record what was tried.
import type { Backend } from '../src/backend/backend.js';
import { attentionGradScratchBytes, type AttentionArgs, type AttentionGradArgs } from '../src/backend/kernels.js';
import type { Storage } from '../src/backend/storage.js';
import {
  TILE_CANDIDATES,
  attentionTile,
  attentionTuningFor,
  useAttentionTuning,
  setStoredScoresBudget,
  storedScoreLayout,
  storedScoresBytes,
  causalSquare,
  DEFAULT_STORED_SCORES_BUDGET,
  type AttentionPass,
  type AttentionTile,
  type AttentionTiles,
  type HeadDimClass,
} from '../src/backend/webgpu/kernels/attention.js';
import { platform } from '../src/platform/platform.js';
import { Rng } from '../src/util/rng.js';
import type { Row, SuiteOutput } from './suite.js';
import { DEFAULT_TIMING, timeRuns, timerKind, type TimingOptions } from './timing.js';

interface AttnShape {
  name: string;
  hq: number;
  hkv: number;
  d: number;
  /** Lengths of the packed sequences (queries = keys). */
  lens: number[];
  causal: boolean;
}

const llm = (tokens: number): AttnShape => ({ name: `llm ${tokens / 1024}k causal`, hq: 16, hkv: 2, d: 128, lens: [tokens], causal: true });
const vision = (windows: number): AttnShape => ({ name: `vision ${windows}×64 windows`, hq: 16, hkv: 16, d: 80, lens: new Array(windows).fill(64), causal: false });

const llm05b: AttnShape = { name: 'llm 2k d64 causal (0.5B)', hq: 14, hkv: 2, d: 64, lens: [2048], causal: true };
export const GPU_SHAPES: AttnShape[] = [llm(1024), llm(4096), llm(8192), llm05b, vision(64)];
export const WASM_SHAPES: AttnShape[] = [{ ...llm(256), name: 'llm 256 causal' }, vision(4)];

/** The shapes whose tiles are tuned, per head-dim class. */
const TUNED: [string, HeadDimClass][] = [
  ['llm 4k causal', 128],
  [llm05b.name, 64],
];

/** Above this sampled error a measurement is reported as wrong. */
const MAX_ERROR = 1e-3;

export interface Problem {
  shape: AttnShape;
  args: AttentionGradArgs;
  host: { q: Float32Array; k: Float32Array; v: Float32Array; g: Float32Array };
  cu: number[];
  /** Visible (query, key) pairs over all sequences. */
  pairs: number;
  free(): void;
}

export function problem(backend: Backend, shape: AttnShape): Problem {
  const { hq, hkv, d } = shape;
  const cu = shape.lens.reduce((c, l) => [...c, c[c.length - 1] + l], [0]);
  const t = cu[cu.length - 1];
  const rng = new Rng(7);
  const host = { q: rng.uniformArray(t * hq * d, -2, 2), k: rng.uniformArray(t * hkv * d, -2, 2), v: rng.uniformArray(t * hkv * d, -1, 1), g: rng.uniformArray(t * hq * d, -1, 1) };
  const owned: Storage[] = [];
  const put = (data: Float32Array | Int32Array) => {
    const s = backend.alloc(data.byteLength, 'bench attention');
    backend.write(s, data);
    owned.push(s);
    return s;
  };
  const empty = (floats: number) => {
    const s = backend.alloc(floats * 4, 'bench attention');
    owned.push(s);
    return s;
  };
  const cuS = put(Int32Array.from(cu));
  const fwd: AttentionArgs = {
    q: put(host.q), k: put(host.k), v: put(host.v), out: empty(t * hq * d), lse: empty(hq * t),
    cuSeqlensQ: cuS, cuSeqlensK: cuS, nSeq: shape.lens.length, maxSeqlenQ: Math.max(...shape.lens), maxSeqlenK: Math.max(...shape.lens),
    tq: t, tk: t, hq, hkv, d, causal: shape.causal, scale: 1 / Math.sqrt(d),
  };
  const args: AttentionGradArgs = {
    ...fwd, gOut: put(host.g), gq: empty(t * hq * d), gk: empty(t * hkv * d), gv: empty(t * hkv * d), scratch: empty(attentionGradScratchBytes(fwd) / 4),
  };
  const pairs = shape.lens.reduce((acc, l) => acc + (shape.causal ? (l * (l + 1)) / 2 : l * l), 0);
  return { shape, args, host, cu, pairs, free: () => owned.forEach((s) => backend.free(s)) };
}

/** Float64 out, lse and gq for query row i (local index) of sequence s, head h. */
function refQueryRow(p: Problem, s: number, h: number, i: number): { out: Float64Array; lse: number; gq: Float64Array } {
  const { hq, hkv, d, causal } = p.shape;
  const { q, k, v, g } = p.host;
  const t0 = p.cu[s];
  const len = p.cu[s + 1] - t0;
  const hk = Math.floor(h / (hq / hkv));
  const scale = 1 / Math.sqrt(d);
  const end = causal ? i + 1 : len;
  const qr = ((t0 + i) * hq + h) * d;
  const sc = new Float64Array(end);
  for (let j = 0; j < end; j++) {
    const kr = ((t0 + j) * hkv + hk) * d;
    let dot = 0;
    for (let e = 0; e < d; e++) dot += q[qr + e] * k[kr + e];
    sc[j] = dot * scale;
  }
  const m = Math.max(...sc);
  let sum = 0;
  for (let j = 0; j < end; j++) sum += Math.exp(sc[j] - m);
  const out = new Float64Array(d);
  const dp = new Float64Array(end);
  for (let j = 0; j < end; j++) {
    const pj = Math.exp(sc[j] - m) / sum;
    const vr = ((t0 + j) * hkv + hk) * d;
    for (let e = 0; e < d; e++) {
      out[e] += pj * v[vr + e];
      dp[j] += g[qr + e] * v[vr + e];
    }
  }
  let delta = 0;
  for (let e = 0; e < d; e++) delta += g[qr + e] * out[e];
  const gq = new Float64Array(d);
  for (let j = 0; j < end; j++) {
    const ds = (Math.exp(sc[j] - m) / sum) * (dp[j] - delta) * scale;
    const kr = ((t0 + j) * hkv + hk) * d;
    for (let e = 0; e < d; e++) gq[e] += ds * k[kr + e];
  }
  return { out, lse: m + Math.log(sum), gq };
}

/** Float64 gk, gv for key j of sequence s, kv head hk, from the device's lse and out (themselves checked on sampled rows). */
function refKeyRow(p: Problem, s: number, hk: number, j: number, lse: Float32Array, out: Float32Array): { gk: Float64Array; gv: Float64Array } {
  const { hq, hkv, d, causal } = p.shape;
  const { q, k, v, g } = p.host;
  const t0 = p.cu[s];
  const len = p.cu[s + 1] - t0;
  const scale = 1 / Math.sqrt(d);
  const kr = ((t0 + j) * hkv + hk) * d;
  const gk = new Float64Array(d);
  const gv = new Float64Array(d);
  const group = hq / hkv;
  for (let h = hk * group; h < (hk + 1) * group; h++)
    for (let i = causal ? j : 0; i < len; i++) {
      const qr = ((t0 + i) * hq + h) * d;
      let dot = 0;
      let dp = 0;
      let delta = 0;
      for (let e = 0; e < d; e++) {
        dot += q[qr + e] * k[kr + e];
        dp += g[qr + e] * v[kr + e];
        delta += g[qr + e] * out[qr + e];
      }
      const pij = Math.exp(dot * scale - lse[h * p.args.tq + t0 + i]);
      const ds = pij * (dp - delta) * scale;
      for (let e = 0; e < d; e++) {
        gk[e] += ds * q[qr + e];
        gv[e] += pij * g[qr + e];
      }
    }
  return { gk, gv };
}

/** Max |device − f64| / max |f64| over sampled query rows (out, lse, gq) and key rows (gk, gv), after a forward and backward. */
async function sampledError(backend: Backend, p: Problem): Promise<number> {
  const a = p.args;
  const read = async (s: Storage, n: number) => new Float32Array(await backend.read(s, 0, n * 4));
  const [out, lse, gq, gk, gv] = await Promise.all([
    read(a.out, a.tq * a.hq * a.d), read(a.lse, a.hq * a.tq), read(a.gq, a.tq * a.hq * a.d), read(a.gk, a.tk * a.hkv * a.d), read(a.gv, a.tk * a.hkv * a.d),
  ]);
  let maxDiff = 0;
  let maxRef = 1e-30;
  const compare = (got: ArrayLike<number>, at: number, want: ArrayLike<number>) => {
    for (let e = 0; e < want.length; e++) {
      const diff = Math.abs(got[at + e] - want[e]);
      maxDiff = Number.isNaN(diff) ? Infinity : Math.max(maxDiff, diff);
      maxRef = Math.max(maxRef, Math.abs(want[e]));
    }
  };
  const rng = new Rng(99);
  const nSeq = p.shape.lens.length;
  for (let n = 0; n < 8; n++) {
    const s = n === 0 ? 0 : n === 1 ? nSeq - 1 : Math.floor(rng.next() * nSeq);
    const len = p.shape.lens[s];
    const i = n === 0 ? 0 : n === 1 ? len - 1 : Math.floor(rng.next() * len);
    const h = Math.floor(rng.next() * a.hq);
    const r = refQueryRow(p, s, h, i);
    const row = ((p.cu[s] + i) * a.hq + h) * a.d;
    compare(out, row, r.out);
    compare(gq, row, r.gq);
    compare(lse, h * a.tq + p.cu[s] + i, [r.lse]);
  }
  for (let n = 0; n < 3; n++) {
    const s = Math.floor(rng.next() * nSeq);
    const j = n === 0 ? 0 : Math.floor(rng.next() * p.shape.lens[s]);
    const hk = Math.floor(rng.next() * a.hkv);
    const r = refKeyRow(p, s, hk, j, lse, out);
    const row = ((p.cu[s] + j) * a.hkv + hk) * a.d;
    compare(gk, row, r.gk);
    compare(gv, row, r.gv);
  }
  return maxDiff / maxRef;
}

const fmtTile = (t: AttentionTile) => `${t.wg}/${t.tc}/${t.br}/${t.bc}/${t.dk}`;

/** Registers `tiles` as this adapter's attention tuning table (the tiles the next runs use). */
function useTiles(backend: Backend, tiles: AttentionTiles, timing: TimingOptions): void {
  useAttentionTuning({ adapter: backend.info.description, date: new Date().toISOString(), source: `bench/attention.ts: ${timerKind(backend)}, median of ${timing.repeats} batches per tile`, tiles });
}

/**
 * Times each pass's alternative tiles on one problem and installs the fastest for its head-dim class
 * in this adapter's tuning table. The backward is timed whole (its other passes keep their tiles), and
 * a tile whose sampled result is wrong is never kept. The dq tile serves only the backward that
 * recomputes S and dP (dQ from stored dS has a tiling of its own), so it is timed with no stored dS.
 */
async function tuneTiles(backend: Backend, p: Problem, dClass: HeadDimClass, timing: TimingOptions): Promise<Row[]> {
  const rows: Row[] = [];
  const adapter = backend.info.description;
  for (const pass of ['fwd', 'dq', 'dkdv'] as AttentionPass[]) {
    const current = attentionTile(pass, dClass, adapter);
    const tiles = attentionTuningFor(adapter)?.tiles ?? {};
    const withTile = (tile: AttentionTile): AttentionTiles => ({ ...tiles, [pass]: { ...tiles[pass], [dClass]: tile } });
    let best: { tile: AttentionTile; ms: number } | null = null;
    setStoredScoresBudget(pass === 'dq' ? 0 : DEFAULT_STORED_SCORES_BUDGET);
    for (const t of TILE_CANDIDATES[pass]) {
      useTiles(backend, withTile(t), timing);
      const run = pass === 'fwd' ? () => backend.attention(p.args) : () => backend.attentionGrad(p.args);
      try {
        const ms = (await timeRuns(backend, run, timing)).seconds * 1e3;
        backend.attention(p.args);
        backend.attentionGrad(p.args);
        const err = await sampledError(backend, p);
        rows.push({ shape: `tune ${pass} (${p.shape.name})`, tile: fmtTile(t), ms, sampledErr: err });
        if (err <= MAX_ERROR && (!best || ms < best.ms)) best = { tile: t, ms };
      } catch (e) {
        rows.push({ shape: `tune ${pass} (${p.shape.name})`, tile: fmtTile(t), error: (e as Error).message.slice(0, 300) });
        await backend.sync().catch(() => undefined);
      }
      console.log(`  ${JSON.stringify(rows[rows.length - 1])}`);
    }
    useTiles(backend, withTile(best?.tile ?? current), timing);
    rows.push({ shape: `tune ${pass}: kept`, tile: best ? fmtTile(best.tile) : null });
  }
  setStoredScoresBudget(DEFAULT_STORED_SCORES_BUDGET);
  return rows;
}

/** Stored-dS budgets the backward is timed with on the tuned shapes (0: dQ recomputes S and dP). */
const DS_BUDGETS_MIB = [0, 128, 256, 512, 1024];

/** Times the backward alone (after one forward) with each stored-dS budget. */
async function timeScoreBudgets(backend: Backend, p: Problem, timing: TimingOptions): Promise<Row[]> {
  const rows: Row[] = [];
  const triangle = causalSquare(p.args);
  const headBytes = storedScoreLayout(p.args, triangle).headBytes;
  const { maxBindingBytes, maxBufferBytes } = backend.info.limits;
  backend.attention(p.args);
  for (const mib of DS_BUDGETS_MIB) {
    setStoredScoresBudget(mib * 2 ** 20);
    // Heads per group as the kernel forms them.
    const group = storedScoresBytes(p.args, triangle, Math.min(maxBindingBytes, maxBufferBytes)) / headBytes;
    const ms = (await timeRuns(backend, () => backend.attentionGrad(p.args), timing)).seconds * 1e3;
    rows.push({ shape: `dS budget (${p.shape.name})`, budget_mib: mib, head_groups: group > 0 ? Math.ceil(p.args.hq / group) : 0, bwd_ms: ms });
    console.log(`  ${JSON.stringify(rows[rows.length - 1])}`);
  }
  setStoredScoresBudget(DEFAULT_STORED_SCORES_BUDGET);
  return rows;
}

export interface AttentionSuiteOptions {
  /** On a hardware WebGPU adapter: write the tuned tiles here as JSON, for useAttentionTuning / MEDE2_ATTENTION_TUNING. */
  tuning?: string;
}

export async function attentionSuite(backend: Backend, opts: AttentionSuiteOptions = {}): Promise<SuiteOutput> {
  const gpu = backend.info.kind === 'webgpu' && !backend.info.software;
  if (opts.tuning && backend.info.kind === 'webgpu' && !gpu)
    throw new Error(`attention bench: --tuning needs a hardware WebGPU adapter (tiles are tuned at 4k tokens), not ${backend.info.description}`);
  const shapes = gpu ? GPU_SHAPES : WASM_SHAPES;
  const timing: TimingOptions = gpu ? DEFAULT_TIMING : { ...DEFAULT_TIMING, warmup: 1, repeats: 3, minBatchSeconds: 0.2 };
  const rows: Row[] = [];
  if (gpu)
    for (const [name, dClass] of TUNED) {
      const p = problem(backend, shapes.find((s) => s.name === name)!);
      rows.push(...(await tuneTiles(backend, p, dClass, timing)));
      rows.push(...(await timeScoreBudgets(backend, p, timing)));
      p.free();
    }
  if (gpu && opts.tuning) {
    const table = attentionTuningFor(backend.info.description)!;
    await platform().writeFileAtomic!(opts.tuning, new TextEncoder().encode(`${JSON.stringify(table, null, 1)}\n`));
    console.log(`attention bench: tuned tiles → ${opts.tuning}`);
  }
  for (const shape of shapes) {
    const p = problem(backend, shape);
    const fwdFlop = 4 * p.pairs * shape.d * shape.hq;
    const row: Row = { shape: shape.name, tokens: p.args.tq, seqs: shape.lens.length, hq: shape.hq, hkv: shape.hkv, d: shape.d, causal: shape.causal };
    try {
      const f = await timeRuns(backend, () => backend.attention(p.args), timing);
      const fb = await timeRuns(backend, () => (backend.attention(p.args), backend.attentionGrad(p.args)), timing);
      const err = await sampledError(backend, p);
      Object.assign(row, {
        fwd_ms: f.seconds * 1e3,
        fwd_tflops: fwdFlop / f.seconds / 1e12,
        fwdbwd_ms: fb.seconds * 1e3,
        fwdbwd_tflops: (3.5 * fwdFlop) / fb.seconds / 1e12,
        sampledErr: err,
      });
      if (!(err <= MAX_ERROR)) {
        row.wrong = true;
        console.warn(`attention bench: ${shape.name} gives wrong results on ${backend.info.description} (sampled error ${err})`);
      }
    } catch (e) {
      row.error = (e as Error).message.slice(0, 300);
      console.warn(`attention bench: ${shape.name}: ${(e as Error).message}`);
      await backend.sync().catch(() => undefined);
    }
    p.free();
    rows.push(row);
    console.log(`  ${JSON.stringify(row)}`);
  }
  return { timing: `${timerKind(backend)}; median of ${timing.repeats} batches, each ≥ ${timing.minBatchSeconds} s of back-to-back runs, after warm-up`, rows };
}
