// Ops and AdamW against PyTorch 2.11 reference values (test/fixtures/ops/ops.json, made by
// tools/fixtures/ops.py on the GPU machine).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/tensor/runtime.js';
import { backward } from '../../src/tensor/autograd.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { AdamW } from '../../src/optim/adamw.js';
import { maxRelError, testBackends } from '../helpers/backends.js';

interface GradCase {
  inputs: number[][];
  shapes: number[][];
  w: number[];
  out: number[];
  out_shape: number[];
  grads: number[][];
}
const fx = JSON.parse(readFileSync(new URL('../fixtures/ops/ops.json', import.meta.url), 'utf8'));
const backends = await testBackends();

describe.each(backends)('PyTorch parity on $name', ({ backend }) => {
  const rt = new Runtime(backend);
  const { ops } = rt;

  /** Forward ≤ fwdTol and gradients ≤ gradTol relative (max abs error over the reference's max). */
  async function check(c: GradCase, fn: (xs: Tensor[]) => Tensor, fwdTol = 2e-6, gradTol = 1e-5): Promise<void> {
    await rt.scopeAsync(async () => {
      const xs = c.inputs.map((d, i) => {
        const x = rt.tensor(d, c.shapes[i]);
        x.requiresGrad = true;
        return x;
      });
      const y = fn(xs);
      expect(maxRelError(await y.f32(), c.out)).toBeLessThanOrEqual(fwdTol);
      backward(ops.sum(ops.mul(y, rt.tensor(c.w, c.out_shape))));
      for (let i = 0; i < xs.length; i++) {
        expect(maxRelError(await xs[i].grad!.f32(), c.grads[i]), `grad ${i}`).toBeLessThanOrEqual(gradTol);
        xs[i].grad!.release();
      }
    });
  }

  const acts: Record<string, (x: Tensor) => Tensor> = {
    gelu_erf: (x) => ops.gelu(x),
    gelu_tanh: (x) => ops.gelu(x, 'tanh'),
    silu: ops.silu,
    quick_gelu: ops.quickGelu,
    softmax: ops.softmax,
    log_softmax: ops.logSoftmax,
  };
  for (const [name, f] of Object.entries(acts)) it(name, () => check(fx.activations[name], ([x]) => f(x)));
  it('rms_norm', () => check(fx.rms_norm, ([x, w]) => ops.rmsNorm(x, w, 1e-6)));
  it('layer_norm', () => check(fx.layer_norm, ([x, w, b]) => ops.layerNorm(x, w, b, 1e-5)));
  it('matmul (batched, transposed weight)', () => check(fx.matmul, ([a, b]) => ops.matmul(a, b, { transB: true })));

  it('cross_entropy over a 1000-word vocabulary with ignored tokens', async () => {
    const c = fx.cross_entropy;
    await rt.scopeAsync(async () => {
      const logits = rt.tensor(c.logits, [c.labels.length, c.vocab]);
      logits.requiresGrad = true;
      const loss = ops.crossEntropy(logits, rt.tensor(c.labels, [c.labels.length], 'i32'));
      expect(Math.abs((await loss.item()) - c.loss) / c.loss).toBeLessThanOrEqual(1e-6);
      backward(loss);
      expect(maxRelError(await logits.grad!.f32(), c.grad)).toBeLessThanOrEqual(1e-6);
      logits.grad!.release();
    });
  });

  it('AdamW with clipping: 5 steps give torch.optim.AdamW losses and weights', async () => {
    const c = fx.adamw;
    const [N, IN, HID, OUT] = c.dims;
    const shapes = [[HID, IN], [HID], [OUT, HID], [OUT]];
    const params = c.init.map((d: number[], i: number) => rt.parameter(d, shapes[i]));
    const opt = new AdamW(params, { lr: c.lr, beta1: c.betas[0], beta2: c.betas[1], eps: c.eps, weightDecay: c.weight_decay, maxGradNorm: c.max_norm });
    const x = rt.keep(rt.tensor(c.x, [N, IN]));
    const y = rt.keep(rt.tensor(c.y, [N, OUT]));
    for (let step = 0; step < 5; step++) {
      const loss = rt.scope(() => {
        const h = ops.silu(ops.linear(x, params[0], params[1]));
        const l = ops.mean(ops.square(ops.sub(ops.linear(h, params[2], params[3]), y)));
        backward(l);
        return l;
      });
      opt.step();
      expect(Math.abs((await loss.item()) - c.losses[step]) / c.losses[step], `loss at step ${step}`).toBeLessThanOrEqual(1e-5);
      expect(Math.abs((await opt.gradNorm()) - c.grad_norms[step]) / c.grad_norms[step], `grad norm at step ${step}`).toBeLessThanOrEqual(1e-5);
      loss.release();
      opt.zeroGrad();
    }
    for (let i = 0; i < params.length; i++) expect(maxRelError(await params[i].f32(), c.final[i]), `param ${i}`).toBeLessThanOrEqual(1e-5);
    for (const t of [...params, x, y]) t.release();
    opt.dispose();
  });
});
