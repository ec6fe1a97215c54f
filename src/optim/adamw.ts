// AdamW with global-norm gradient clipping, entirely on the device: per-parameter sums of
// squares → one clip factor → one fused AdamW kernel per parameter. Nothing is read back
// unless gradNorm() is asked for.
import { sumSquaresParts } from '../backend/kernels.js';
import type { Tensor } from '../tensor/tensor.js';

export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Clip the global gradient L2 norm to this value (torch.nn.utils.clip_grad_norm_); ≤ 0 or undefined: no clipping. */
  maxGradNorm?: number;
}

export interface AdamWState {
  step: number;
  m: Float32Array[];
  v: Float32Array[];
}

export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly maxGradNorm: number;
  lr: number;
  /** Optimizer steps taken (bias correction uses it). */
  stepCount = 0;
  private m: Tensor[];
  private v: Tensor[];
  /** Partial sums of squares of every gradient: parameter i's occupy slots[i] … slots[i + 1] − 1. */
  private sumsq: Tensor;
  private slots: number[];
  /** [clip factor, global norm] of the last step. */
  private clip: Tensor;

  constructor(
    readonly params: Tensor[],
    opts: AdamWOptions,
  ) {
    if (!params.length) throw new Error('AdamW: no parameters to optimise');
    for (const p of params)
      if (!p.requiresGrad || p.dtype !== 'f32') throw new Error(`AdamW: parameter ${p.describe()} must be a trainable f32 tensor`);
    this.lr = opts.lr;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.01;
    this.maxGradNorm = opts.maxGradNorm ?? 0;
    const rt = params[0].rt;
    this.m = params.map((p) => rt.keep(rt.zeros(p.shape)));
    this.v = params.map((p) => rt.keep(rt.zeros(p.shape)));
    this.slots = [0];
    for (const p of params) this.slots.push(this.slots[this.slots.length - 1] + sumSquaresParts(p.size));
    this.sumsq = rt.keep(rt.zeros([this.slots[params.length]]));
    this.clip = rt.keep(rt.zeros([2]));
  }

  /** One update from the parameters' .grad (a missing grad counts as zero, as torch skips it). */
  step(lr = this.lr): void {
    const rt = this.params[0].rt;
    const b = rt.backend;
    this.stepCount++;
    this.params.forEach((p, i) => {
      const slot = this.slots[i];
      if (p.grad) b.sumSquares({ x: p.grad.storage, n: p.size, out: this.sumsq.storage, slot });
      else b.write(this.sumsq.storage, new Float32Array(this.slots[i + 1] - slot), slot * 4); // no grad: its slots read 0
    });
    b.clipScale({ sumsq: this.sumsq.storage, count: this.slots[this.params.length], maxNorm: this.maxGradNorm, out: this.clip.storage });
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      b.adamw({
        param: p.storage,
        grad: p.grad.storage,
        m: this.m[i].storage,
        v: this.v[i].storage,
        scale: this.clip.storage,
        n: p.size,
        lr,
        beta1: this.beta1,
        beta2: this.beta2,
        eps: this.eps,
        weightDecay: this.weightDecay,
        step: this.stepCount,
      });
    });
  }

  /** The global gradient norm before clipping, of the last step (reads back one number). */
  async gradNorm(): Promise<number> {
    return (await this.clip.f32())[1];
  }

  /** Releases every parameter's .grad (gradients accumulate until this is called). */
  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.release();
      p.grad = null;
    }
  }

  /** Optimizer moments and step, for checkpoints. */
  async state(): Promise<AdamWState> {
    return { step: this.stepCount, m: await Promise.all(this.m.map((t) => t.f32())), v: await Promise.all(this.v.map((t) => t.f32())) };
  }

  loadState(s: AdamWState): void {
    if (s.m.length !== this.params.length || s.v.length !== this.params.length)
      throw new Error(`AdamW.loadState: state has ${s.m.length} parameters, optimizer has ${this.params.length}`);
    const b = this.params[0].rt.backend;
    this.params.forEach((p, i) => {
      if (s.m[i].length !== p.size || s.v[i].length !== p.size) throw new Error(`AdamW.loadState: moment ${i} size does not match ${p.describe()}`);
      b.write(this.m[i].storage, s.m[i]);
      b.write(this.v[i].storage, s.v[i]);
    });
    this.stepCount = s.step;
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v, this.sumsq, this.clip]) t.release();
  }
}
