// The attention and rope autograd ops (src/tensor/ops/attention.ts) on both backends: forward against
// the float64 reference, gradients against central finite differences of it.
import { describe, it } from 'vitest';
import { Runtime } from '../../src/tensor/runtime.js';
import { ropeTables } from '../../src/nn/rope.js';
import { randomF32, testBackends } from '../helpers/backends.js';
import { checkOp, type Input } from '../helpers/gradcheck.js';
import { attentionRef, ropeRef, type AttentionShape } from './reference.js';
import { COMPILE_TIMEOUT } from './timeout.js';

const backends = await testBackends();
const inp = (shape: number[], seed: number, lo = -1, hi = 1): Input => ({ shape, data: randomF32(shape.reduce((a, b) => a * b, 1), seed, lo, hi) });

const CASES: { name: string; s: AttentionShape }[] = [
  { name: 'packed [3, 5], causal, GQA 2:1', s: { tq: 8, tk: 8, hq: 2, hkv: 1, d: 8, cuQ: [0, 3, 8], cuK: [0, 3, 8], causal: true, scale: 0.5 } },
  { name: 'bidirectional windows [4, 4]', s: { tq: 8, tk: 8, hq: 2, hkv: 2, d: 8, cuQ: [0, 4, 8], cuK: [0, 4, 8], causal: false, scale: 0.35 } },
  { name: 'decode: 2 queries, 5 keys in a 7-row cache', s: { tq: 2, tk: 7, hq: 2, hkv: 1, d: 8, cuQ: [0, 2], cuK: [0, 5], causal: true, scale: 0.35 } },
];

describe.each(backends)('attention ops on $name', COMPILE_TIMEOUT, ({ backend }) => {
  const rt = new Runtime(backend);

  it.each(CASES)('attention: $name', async ({ s }) => {
    const inputs = [inp([s.tq, s.hq, s.d], 1, -2, 2), inp([s.tk, s.hkv, s.d], 2, -2, 2), inp([s.tk, s.hkv, s.d], 3)];
    await checkOp(
      rt,
      inputs,
      ([q, k, v]) => rt.ops.attention(q, k, v, { cuSeqlensQ: s.cuQ, cuSeqlensK: s.cuK, causal: s.causal, scale: s.scale }),
      ([q, k, v]) => attentionRef(s, q, k, v).out,
    );
  });

  it('rope: x rotated by 1-D tables, and its gradient', async () => {
    const [t, h, d] = [5, 2, 8];
    const { cos, sin } = ropeTables([0, 1, 2, 30, 4000], d, 10000);
    await checkOp(
      rt,
      [inp([t, h, d], 4)],
      ([x]) => rt.ops.rope(x, rt.tensor(cos, [t, d]), rt.tensor(sin, [t, d])),
      ([x]) => ropeRef(x, cos, sin, t, h, d),
    );
  });
});
