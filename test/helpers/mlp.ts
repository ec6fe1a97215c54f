// The 2-layer MLP regression task (GELU-tanh hidden layer, AdamW with clipping) that
// test/tensor/mlp.test.ts trains and test/browser/ replays in Chromium. Platform-free: it
// imports no node: module, so the same code is bundled for the page.
import type { Runtime } from '../../src/tensor/runtime.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { backward } from '../../src/tensor/autograd.js';
import { AdamW } from '../../src/optim/adamw.js';
import { Rng } from '../../src/util/rng.js';

const [N, IN, HID, OUT] = [64, 8, 32, 4];

/** Inputs uniform in [-1, 1) and targets from a fixed nonlinear teacher (learnable, not linear). */
function dataset(): { x: Float32Array; y: Float32Array } {
  const x = new Rng(100).uniformArray(N * IN, -1, 1);
  const y = new Float32Array(N * OUT);
  for (let i = 0; i < N; i++)
    for (let o = 0; o < OUT; o++) {
      let s = 0;
      for (let j = 0; j < IN; j++) s += Math.sin((o + 1) * (j + 1)) * x[i * IN + j];
      y[i * OUT + o] = Math.tanh(s);
    }
  return { x, y };
}

export interface MlpRun {
  losses: number[];
  /** w1, b1, w2, b2 concatenated. */
  weights: Float32Array;
}

/** Trains from the fixed initialisation for `steps` AdamW steps; losses are read back once, at the end. */
export async function trainMlp(rt: Runtime, steps: number): Promise<MlpRun> {
  const { x, y } = dataset();
  const w1 = rt.parameter(new Rng(1).uniformArray(HID * IN, -0.35, 0.35), [HID, IN], 'w1');
  const b1 = rt.parameter(new Float32Array(HID), [HID], 'b1');
  const w2 = rt.parameter(new Rng(2).uniformArray(OUT * HID, -0.18, 0.18), [OUT, HID], 'w2');
  const b2 = rt.parameter(new Float32Array(OUT), [OUT], 'b2');
  const params = [w1, b1, w2, b2];
  const opt = new AdamW(params, { lr: 1e-2, weightDecay: 0.01, maxGradNorm: 1.0 });
  const xs = rt.keep(rt.tensor(x, [N, IN]));
  const ys = rt.keep(rt.tensor(y, [N, OUT]));
  const lossTensors: Tensor[] = [];
  for (let step = 0; step < steps; step++) {
    const loss = rt.scope(() => {
      const h = rt.ops.gelu(rt.ops.linear(xs, w1, b1), 'tanh');
      const d = rt.ops.sub(rt.ops.linear(h, w2, b2), ys);
      const l = rt.ops.mean(rt.ops.square(d));
      backward(l);
      return l;
    });
    opt.step();
    opt.zeroGrad();
    lossTensors.push(rt.keep(loss));
  }
  const losses: number[] = [];
  for (const l of lossTensors) {
    losses.push(await l.item());
    l.release();
  }
  const weights = new Float32Array((await Promise.all(params.map((p) => p.f32()))).flatMap((a) => Array.from(a)));
  for (const t of [...params, xs, ys]) t.release();
  opt.dispose();
  return { losses, weights };
}
