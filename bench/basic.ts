// Elementwise family throughput (GB/s = bytes read + written / time) on the shapes a
// transformer step produces: activations [tokens, hidden] and MLP [tokens, intermediate]
// (Qwen2.5-0.5B: hidden 896, intermediate 4864; 2048 tokens on a GPU, 256 elsewhere).
// Reductions cover row sums (inner = 1), column sums (bias gradients, inner = hidden) and a
// short middle axis; on WebGPU every reduce tile is timed too, so reduceTile's choice in
// src/backend/webgpu/kernels/basic.ts can be checked against measurements.
import type { Backend } from '../src/backend/backend.js';
import type { Kernels, ReduceArgs } from '../src/backend/kernels.js';
import type { Storage } from '../src/backend/storage.js';
import type { WebGpuBackend } from '../src/backend/webgpu/backend.js';
import { reduceTile, reduceWithTile } from '../src/backend/webgpu/kernels/basic.js';
import type { Row, SuiteOutput } from './suite.js';
import { DEFAULT_TIMING, timeRuns, timerKind } from './timing.js';

interface Case {
  name: string;
  /** Bytes the op must move at least once. */
  bytes: number;
  run: (k: Kernels) => void;
  /** For reduce cases: the args, so other tiles can be timed on WebGPU. */
  reduce?: ReduceArgs;
}

function cases(backend: Backend, tokens: number, hidden: number, inter: number): { list: Case[]; free: () => void } {
  const storages: Storage[] = [];
  const buf = (elems: number): Storage => {
    const s = backend.alloc(elems * 4, 'bench');
    backend.fill({ out: s, n: elems, value: 0.5, dtype: 'f32' });
    storages.push(s);
    return s;
  };
  const [th, ti] = [tokens * hidden, tokens * inter];
  const [x, y, z, out, out2, bias] = [buf(ti), buf(ti), buf(ti), buf(ti), buf(ti), buf(inter)];
  const reduce = (op: 'sum' | 'mean', outer: number, size: number, inner: number): Case => {
    const args: ReduceArgs = { op, x, out, outer, size, inner };
    return { name: `reduce [${outer},${size},${inner}]`, bytes: 4 * (outer * size * inner + outer * inner), run: (k) => k.reduce(args), reduce: args };
  };
  const list: Case[] = [
    { name: `add [${tokens},${inter}]`, bytes: 12 * ti, run: (k) => k.binary({ op: 'add', a: x, b: y, out, shape: [ti], aStrides: [1], bStrides: [1] }) },
    { name: `add bias [${tokens},${inter}]+[${inter}]`, bytes: 8 * ti, run: (k) => k.binary({ op: 'add', a: x, b: bias, out, shape: [tokens, inter], aStrides: [inter, 1], bStrides: [0, 1] }) },
    { name: `mul by row scalar [${tokens},${hidden}]`, bytes: 8 * th, run: (k) => k.binary({ op: 'mul', a: x, b: bias, out, shape: [tokens, hidden], aStrides: [hidden, 1], bStrides: [1, 0] }) },
    { name: `silu [${tokens},${inter}]`, bytes: 8 * ti, run: (k) => k.unary({ op: 'silu', x, out, n: ti, alpha: 0 }) },
    { name: `gelu_erf [${tokens},${inter}]`, bytes: 8 * ti, run: (k) => k.unary({ op: 'gelu_erf', x, out, n: ti, alpha: 0 }) },
    { name: `gelu_erf grad [${tokens},${inter}]`, bytes: 12 * ti, run: (k) => k.unaryGrad({ op: 'gelu_erf', x, gy: y, gx: out, n: ti, alpha: 0 }) },
    { name: `swiglu [${tokens},${inter}]`, bytes: 12 * ti, run: (k) => k.swiglu({ gate: x, up: y, out, n: ti }) },
    { name: `swiglu grad [${tokens},${inter}]`, bytes: 20 * ti, run: (k) => k.swigluGrad({ gate: x, up: y, gy: z, gGate: out, gUp: out2, n: ti }) },
    { name: `transpose [${tokens},${hidden}]`, bytes: 8 * th, run: (k) => k.copyStrided({ src: x, dst: out, shape: [hidden, tokens], srcStrides: [1, hidden], dstStrides: [tokens, 1], srcOffset: 0, dstOffset: 0 }) },
    { name: `unpack bf16 [${tokens},${inter}]`, bytes: 6 * ti, run: (k) => k.unpack({ src: x, srcDtype: 'bf16', out, n: ti }) },
    reduce('sum', tokens, hidden, 1), // row sums
    reduce('sum', 1, tokens, hidden), // bias gradient: column sums
    reduce('sum', 1, tokens, inter),
    reduce('sum', 1, tokens, 128), // k/v bias gradients of the 0.5B model
    reduce('mean', tokens * 4, hidden / 4, 1), // short rows
    reduce('sum', tokens, 4, hidden / 4), // short middle axis
    reduce('sum', 1, th, 1), // everything into one value: one workgroup
  ];
  return { list, free: () => storages.forEach((s) => backend.free(s)) };
}

const TILES = [1, 2, 4, 8, 16, 32, 64, 128, 256];

export async function basicSuite(backend: Backend): Promise<SuiteOutput> {
  const gpu = backend.info.kind === 'webgpu' && !backend.info.software ? (backend as WebGpuBackend) : null;
  const [tokens, hidden, inter] = gpu ? [2048, 896, 4864] : [256, 896, 4864];
  const timing = gpu ? DEFAULT_TIMING : { ...DEFAULT_TIMING, warmup: 1, repeats: 3, minBatchSeconds: 0.2 };
  const { list, free } = cases(backend, tokens, hidden, inter);
  const rows: Row[] = [];
  for (const c of list) {
    const t = await timeRuns(backend, () => c.run(backend), timing);
    const row: Row = { op: c.name, ms: t.seconds * 1e3, 'GB/s': c.bytes / t.seconds / 1e9 };
    if (gpu && c.reduce) {
      const args = c.reduce;
      row.tile = reduceTile(args.size, args.inner);
      for (const tx of TILES) row[`tile ${tx} GB/s`] = c.bytes / (await timeRuns(backend, () => reduceWithTile(gpu.ctx, args, tx), timing)).seconds / 1e9;
    }
    rows.push(row);
  }
  free();
  return { timing: `${timerKind(backend)}; median of ${timing.repeats} batches, each ≥ ${timing.minBatchSeconds} s of back-to-back runs, after warm-up`, rows };
}
