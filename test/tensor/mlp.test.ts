// A 2-layer MLP trained with AdamW (+ clipping) on a fixed regression task: it must learn,
// and two runs must give bit-identical losses and weights.
import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/tensor/runtime.js';
import { backward } from '../../src/tensor/autograd.js';
import { AdamW } from '../../src/optim/adamw.js';
import { randomF32, testBackends } from '../helpers/backends.js';

const backends = await testBackends();
const [N, IN, HID, OUT, STEPS] = [64, 8, 32, 4, 200];

/** Targets from a fixed nonlinear teacher, so the task is learnable but not linear. */
function dataset(): { x: Float32Array; y: Float32Array } {
  const x = randomF32(N * IN, 100);
  const y = new Float32Array(N * OUT);
  for (let i = 0; i < N; i++)
    for (let o = 0; o < OUT; o++) {
      let s = 0;
      for (let j = 0; j < IN; j++) s += Math.sin((o + 1) * (j + 1)) * x[i * IN + j];
      y[i * OUT + o] = Math.tanh(s);
    }
  return { x, y };
}

async function train(rt: Runtime): Promise<{ losses: number[]; weights: Float32Array }> {
  const { x, y } = dataset();
  const w1 = rt.parameter(randomF32(HID * IN, 1, -0.35, 0.35), [HID, IN], 'w1');
  const b1 = rt.parameter(new Float32Array(HID), [HID], 'b1');
  const w2 = rt.parameter(randomF32(OUT * HID, 2, -0.18, 0.18), [OUT, HID], 'w2');
  const b2 = rt.parameter(new Float32Array(OUT), [OUT], 'b2');
  const params = [w1, b1, w2, b2];
  const opt = new AdamW(params, { lr: 1e-2, weightDecay: 0.01, maxGradNorm: 1.0 });
  const xs = rt.keep(rt.tensor(x, [N, IN]));
  const ys = rt.keep(rt.tensor(y, [N, OUT]));
  const losses: number[] = [];
  const lossTensors = [];
  for (let step = 0; step < STEPS; step++) {
    const loss = rt.scope(() => {
      const h = rt.ops.gelu(rt.ops.linear(xs, w1, b1), 'tanh');
      const d = rt.ops.sub(rt.ops.linear(h, w2, b2), ys);
      const l = rt.ops.mean(rt.ops.square(d));
      backward(l);
      return l;
    });
    opt.step();
    opt.zeroGrad();
    lossTensors.push(rt.keep(loss)); // read back once at the end, not per step
  }
  for (const l of lossTensors) {
    losses.push(await l.item());
    l.release();
  }
  const weights = new Float32Array((await Promise.all(params.map((p) => p.f32()))).flatMap((a) => Array.from(a)));
  for (const t of [...params, xs, ys]) t.release();
  opt.dispose();
  return { losses, weights };
}

describe.each(backends)('MLP training on $name', ({ backend }) => {
  it(`reaches loss < 0.02 in ${STEPS} AdamW steps, bit-identically twice`, async () => {
    const rt = new Runtime(backend);
    const before = rt.memory().liveBytes;
    const a = await train(rt);
    const b = await train(rt);
    expect(a.losses[0]).toBeGreaterThan(0.1);
    expect(a.losses[STEPS - 1]).toBeLessThan(0.02);
    expect(b.losses).toEqual(a.losses);
    expect(Buffer.from(b.weights.buffer).equals(Buffer.from(a.weights.buffer))).toBe(true);
    expect(rt.memory().liveBytes).toBe(before); // nothing leaked
  });
});
