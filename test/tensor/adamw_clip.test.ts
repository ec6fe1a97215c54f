// AdamW's global-norm clipping over parameters of very different sizes: a gradient large enough
// to be summed in several chunks, small ones, and a parameter that has a gradient in one step
// and none in the next (its partial sums from the first step must not leak into the second).
//
// Tolerance: norms within 1e-6 relative of the f64 norm (f32 chunk sums; measured ≤ 1e-7).
import { describe, expect, it } from 'vitest';
import { sumSquaresParts } from '../../src/backend/kernels.js';
import { AdamW } from '../../src/optim/adamw.js';
import { Runtime } from '../../src/tensor/runtime.js';
import { randomF32, testBackends } from '../helpers/backends.js';

const NORM_TOL = 1e-6;
const backends = await testBackends();

const norm = (gs: Float32Array[]): number => Math.sqrt(gs.reduce((s, g) => s + g.reduce((a, v) => a + v * v, 0), 0));

describe.each(backends)('AdamW clipping on $name', ({ backend }) => {
  it('takes the global norm over every chunk of every gradient, and ignores a parameter without one', async () => {
    const rt = new Runtime(backend);
    const sizes = [50_001, 10, 3];
    expect(sumSquaresParts(sizes[0])).toBeGreaterThan(1);
    const params = sizes.map((n, i) => rt.parameter(randomF32(n, 10 + i), [n], `p${i}`));
    const opt = new AdamW(params, { lr: 1e-3, maxGradNorm: 1 });
    const setGrads = (gs: (Float32Array | null)[]) =>
      params.forEach((p, i) => {
        p.grad?.release();
        p.grad = gs[i] ? rt.keep(rt.tensor(gs[i]!, [sizes[i]])) : null;
      });

    const first = sizes.map((n, i) => randomF32(n, 20 + i, -3, 3));
    setGrads(first);
    opt.step();
    expect(Math.abs((await opt.gradNorm()) - norm(first)) / norm(first)).toBeLessThanOrEqual(NORM_TOL);

    const second = [randomF32(sizes[0], 30, -1, 1), null, randomF32(sizes[2], 32)];
    const before = await params[1].f32();
    setGrads(second);
    opt.step();
    const present = second.filter((g): g is Float32Array => g !== null);
    expect(Math.abs((await opt.gradNorm()) - norm(present)) / norm(present)).toBeLessThanOrEqual(NORM_TOL);
    expect(await params[1].f32()).toEqual(before); // no grad: torch skips the parameter entirely
    opt.zeroGrad();
    opt.dispose();
    for (const p of params) p.release();
  });
});
