// AdamW with global-norm gradient clipping, entirely on the device: per-parameter sums of
// squares → one clip factor → one fused AdamW update. Both kernels take small groups of
// tensors per call (a handful of dispatches for a model of many small tensors); a group's
// moments share one buffer each. Nothing is read back unless gradNorm() is asked for.
import { ADAMW_GROUP, SUM_SQUARES_GROUP, sumSquaresParts } from '../backend/kernels.js';
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
  /** Parameters updated by one adamw call, with their moments: parameter `members[k]` at element `at[k]` of m and v. */
  private groups: { members: number[]; at: number[]; m: Tensor; v: Tensor }[] = [];
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
    // Consecutive parameters share a group while its moments fit one binding.
    const maxElems = Math.floor(Math.min(rt.backend.info.limits.maxBindingBytes, rt.backend.info.limits.maxBufferBytes) / 4);
    let members: number[] = [];
    let at: number[] = [];
    let size = 0;
    const close = (): void => {
      if (!members.length) return;
      this.groups.push({ members, at, m: rt.keep(rt.zeros([size])), v: rt.keep(rt.zeros([size])) });
      members = [];
      at = [];
      size = 0;
    };
    params.forEach((p, i) => {
      if (members.length === ADAMW_GROUP || size + p.size > maxElems) close();
      members.push(i);
      at.push(size);
      size += p.size;
    });
    close();
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
    const present = this.params.flatMap((p, i) => (p.grad ? [{ x: p.grad.storage, n: p.size, slot: this.slots[i] }] : []));
    for (let at = 0; at < present.length; at += SUM_SQUARES_GROUP) b.sumSquares({ xs: present.slice(at, at + SUM_SQUARES_GROUP), out: this.sumsq.storage });
    this.params.forEach((p, i) => {
      if (!p.grad) b.write(this.sumsq.storage, new Float32Array(this.slots[i + 1] - this.slots[i]), this.slots[i] * 4); // no grad: its slots read 0
    });
    b.clipScale({ sumsq: this.sumsq.storage, count: this.slots[this.params.length], maxNorm: this.maxGradNorm, out: this.clip.storage });
    for (const g of this.groups) {
      const tensors = g.members.flatMap((i, k) => {
        const p = this.params[i];
        return p.grad ? [{ param: p.storage, grad: p.grad.storage, n: p.size, at: g.at[k] }] : [];
      });
      if (!tensors.length) continue;
      b.adamw({
        tensors,
        m: g.m.storage,
        v: g.v.storage,
        scale: this.clip.storage,
        lr,
        beta1: this.beta1,
        beta2: this.beta2,
        eps: this.eps,
        weightDecay: this.weightDecay,
        step: this.stepCount,
      });
    }
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
    const b = this.params[0].rt.backend;
    const read = async (t: Tensor, at: number, n: number): Promise<Float32Array> => new Float32Array(n ? await b.read(t.storage, at * 4, n * 4) : new ArrayBuffer(0));
    const m: Promise<Float32Array>[] = [];
    const v: Promise<Float32Array>[] = [];
    for (const g of this.groups)
      for (const [k, i] of g.members.entries()) {
        m[i] = read(g.m, g.at[k], this.params[i].size);
        v[i] = read(g.v, g.at[k], this.params[i].size);
      }
    return { step: this.stepCount, m: await Promise.all(m), v: await Promise.all(v) };
  }

  loadState(s: AdamWState): void {
    if (s.m.length !== this.params.length || s.v.length !== this.params.length)
      throw new Error(`AdamW.loadState: state has ${s.m.length} parameters, optimizer has ${this.params.length}`);
    this.params.forEach((p, i) => {
      if (s.m[i].length !== p.size || s.v[i].length !== p.size) throw new Error(`AdamW.loadState: moment ${i} size does not match ${p.describe()}`);
    });
    const b = this.params[0].rt.backend;
    for (const g of this.groups)
      for (const [k, i] of g.members.entries()) {
        b.write(g.m.storage, s.m[i], g.at[k] * 4);
        b.write(g.v.storage, s.v[i], g.at[k] * 4);
      }
    this.stepCount = s.step;
  }

  dispose(): void {
    for (const t of [...this.groups.flatMap((g) => [g.m, g.v]), this.sumsq, this.clip]) t.release();
  }
}
