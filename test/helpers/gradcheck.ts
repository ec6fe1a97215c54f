// Checks an op against a float64 JS reference: the forward values, and the analytic
// gradients (device, via backward) against central finite differences of the reference.
import { expect } from 'vitest';
import type { Runtime } from '../../src/tensor/runtime.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { backward } from '../../src/tensor/autograd.js';
import { maxRelError, randomF32 } from './backends.js';

export interface Input {
  shape: number[];
  data: Float32Array;
  /** Whether to check this input's gradient (default true). */
  grad?: boolean;
}

export type RefFn = (xs: Float64Array[]) => Float64Array;

export interface CheckOptions {
  fwdTol?: number;
  gradTol?: number;
  /** Finite-difference step (in f64). */
  h?: number;
  seed?: number;
}

export async function checkOp(rt: Runtime, inputs: Input[], op: (xs: Tensor[]) => Tensor, ref: RefFn, opts: CheckOptions = {}): Promise<void> {
  const { fwdTol = 1e-5, gradTol = 1e-4, h = 1e-6, seed = 7 } = opts;
  const xs64 = inputs.map((i) => Float64Array.from(i.data));
  const want = ref(xs64);
  await rt.scopeAsync(async () => {
    const xs = inputs.map((i) => {
      const t = rt.tensor(i.data, i.shape);
      t.requiresGrad = i.grad !== false;
      return t;
    });
    const y = op(xs);
    const got = await y.f32();
    expect(got.length).toBe(want.length);
    const fwdErr = maxRelError(got, want);
    expect(fwdErr, `forward max rel error ${fwdErr}`).toBeLessThanOrEqual(fwdTol);
    // loss = Σ y ⊙ w with random w, so every output element's gradient path is exercised.
    const w = randomF32(want.length, seed);
    const loss = rt.ops.sum(rt.ops.mul(y, rt.tensor(w, y.shape)));
    backward(loss);
    const w64 = Float64Array.from(w);
    const objective = (vals: Float64Array[]) => {
      const o = ref(vals);
      let s = 0;
      for (let i = 0; i < o.length; i++) s += o[i] * w64[i];
      return s;
    };
    for (let k = 0; k < inputs.length; k++) {
      if (inputs[k].grad === false) continue;
      const x = xs[k];
      expect(x.grad, `input ${k} got no gradient`).not.toBeNull();
      const analytic = await x.grad!.f32();
      const numeric = new Float64Array(x.size);
      for (let i = 0; i < x.size; i++) {
        const orig = xs64[k][i];
        const step = h * Math.max(1, Math.abs(orig));
        xs64[k][i] = orig + step;
        const up = objective(xs64);
        xs64[k][i] = orig - step;
        const down = objective(xs64);
        xs64[k][i] = orig;
        numeric[i] = (up - down) / (2 * step);
      }
      const err = maxRelError(analytic, numeric);
      expect(err, `gradient of input ${k}: max rel error ${err}`).toBeLessThanOrEqual(gradTol);
      x.grad!.release();
      x.grad = null;
    }
  });
}
