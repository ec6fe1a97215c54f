// The Stage-I trainer ("elicit"): supervised fine-tuning on packed rows of tokenised samples.
// One step = gradAccum rows; the step's loss is the mean over every labelled token of those
// rows (each row's mean loss weighted by its token share, as transformers does with
// num_items_in_batch), AdamW with global-norm clipping at the scheduled lr. The loss is read
// back once per step. Platform-free: Node and the browser run the same code.
import { backward } from '../tensor/autograd.js';
import type { Tensor } from '../tensor/tensor.js';
import { AdamW } from '../optim/adamw.js';
import type { QwenVL } from '../models/qwen2vl/model.js';
import type { Grid } from '../models/qwen2vl/vision.js';
import { Packer, type PackIterator, type PackPosition, type PackedRow } from './packing.js';
import { LrSchedule, warmupStepsFor, type ScheduleKind } from './schedule.js';
import type { TrainingState } from './checkpoint.js';
import type { ImageGrid } from './data/tokenize.js';

export interface SftSampleInput {
  id: string;
  inputIds: Int32Array;
  labels: Int32Array;
  images?: { path: string; grid: ImageGrid }[];
  file?: string;
  line?: number;
}

export interface SftRunConfig {
  lr: number;
  schedule: ScheduleKind;
  epochs: number;
  maxSteps?: number;
  batchTokens: number;
  gradAccum: number;
  warmup: { steps: number } | { ratio: number };
  weightDecay: number;
  maxGradNorm: number;
  seed: number;
  /** Shuffle the samples each epoch (default true); false keeps file order. */
  shuffle?: boolean;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/** Pixels of an image file as the image processor makes them: [patches, C·T·P·P]. */
export type PixelSource = (path: string) => Promise<{ pixels: Float32Array; grid: ImageGrid }>;

export interface StepReport {
  step: number;
  /** Mean loss over the step's labelled tokens. */
  loss: number;
  lr: number;
  /** Tokens processed this step (all of them, prompt included). */
  tokens: number;
  labelTokens: number;
  /** Fractional epoch reached. */
  epoch: number;
  seconds: number;
  peakBytes: number;
}

export class SftTrainer {
  readonly packer: Packer;
  readonly schedule: LrSchedule;
  readonly optimizer: AdamW;
  readonly totalSteps: number;
  step = 0;
  private iter: PackIterator;
  private readonly byId: Map<string, SftSampleInput>;
  private readonly rowsPerEpoch: number;

  constructor(
    readonly model: QwenVL,
    samples: SftSampleInput[],
    readonly config: SftRunConfig,
    private readonly pixels?: PixelSource,
  ) {
    if (!(Number.isInteger(config.gradAccum) && config.gradAccum >= 1)) throw new Error(`sft: gradAccum must be an integer ≥ 1, got ${config.gradAccum}`);
    this.packer = new Packer(samples, { batchTokens: config.batchTokens, seed: config.seed, shuffle: config.shuffle });
    this.byId = new Map(samples.map((s) => [s.id, s]));
    const rows = this.packer.rowsPerEpoch(Math.max(1, Math.ceil(config.epochs)));
    this.rowsPerEpoch = rows[0];
    const epochRows = rows.reduce((a, b) => a + b, 0);
    this.totalSteps = config.maxSteps ?? Math.max(1, Math.ceil(epochRows / config.gradAccum));
    this.schedule = new LrSchedule({
      kind: config.schedule,
      baseLr: config.lr,
      warmupSteps: warmupStepsFor(config.warmup, this.totalSteps),
      totalSteps: this.totalSteps,
    });
    const params = model.trainable();
    if (!params.length) throw new Error('sft: the model has no trainable parameters (everything frozen and no LoRA)');
    this.optimizer = new AdamW(params, {
      lr: config.lr,
      beta1: config.beta1,
      beta2: config.beta2,
      eps: config.eps,
      weightDecay: config.weightDecay,
      maxGradNorm: config.maxGradNorm,
    });
    this.iter = this.packer.iterate();
  }

  get done(): boolean {
    return this.step >= this.totalSteps;
  }

  /** Where the data iterator stands (saved in checkpoints). */
  get position(): PackPosition {
    return this.iter.position;
  }

  /** Image pixels and grids of a row's samples, in row order. */
  private async rowImages(row: PackedRow): Promise<{ pixels?: Tensor; grids: Grid[] }> {
    const imgs = row.sampleIds.flatMap((id) => this.byId.get(id)?.images ?? []);
    if (!imgs.length) return { grids: [] };
    if (!this.pixels) throw new Error(`sft: sample '${row.sampleIds[0]}' has images but the trainer was given no image loader`);
    const loaded = await Promise.all(imgs.map((i) => this.pixels!(i.path)));
    const width = loaded[0].pixels.length / (loaded[0].grid[0] * loaded[0].grid[1] * loaded[0].grid[2]);
    const all = new Float32Array(loaded.reduce((s, l) => s + l.pixels.length, 0));
    let at = 0;
    for (const l of loaded) {
      all.set(l.pixels, at);
      at += l.pixels.length;
    }
    return { pixels: this.model.rt.tensor(all, [all.length / width, width]), grids: loaded.map((l) => l.grid) };
  }

  /** Loss of one row scaled by weight, with its gradient accumulated into the parameters. */
  private async accumulate(row: PackedRow, weight: number, total: Tensor | null): Promise<Tensor> {
    const rt = this.model.rt;
    return rt.scopeAsync(async () => {
      const { pixels, grids } = await this.rowImages(row);
      const out = this.model.forward({ inputIds: row.inputIds, cuSeqlens: Array.from(row.cuSeqlens), labels: row.labels, pixelValues: pixels, imageGridThw: grids, logits: 'none' });
      const part = rt.ops.scale(out.loss!, weight);
      backward(part);
      return rt.noGrad(() => (total ? rt.ops.add(total, part) : rt.ops.copy(part)));
    });
  }

  /** One optimizer step over the next gradAccum rows. */
  async train(): Promise<StepReport> {
    if (this.done) throw new Error(`sft: training is complete (${this.totalSteps} steps)`);
    const rt = this.model.rt;
    const t0 = performance.now();
    rt.backend.resetPeak();
    this.model.training = true;
    const rows: PackedRow[] = [];
    for (let i = 0; i < this.config.gradAccum; i++) rows.push(this.iter.next());
    const labelTokens = rows.reduce((s, r) => s + r.labelTokens, 0);
    let total: Tensor | null = null;
    for (const row of rows) {
      if (!row.labelTokens) continue;
      const next: Tensor = await this.accumulate(row, row.labelTokens / labelTokens, total);
      total?.release();
      total = next;
    }
    const lr = this.schedule.lr(this.step);
    this.optimizer.step(lr);
    this.optimizer.zeroGrad();
    this.step++;
    const loss = total ? await total.item() : NaN;
    total?.release();
    const pos = this.iter.position;
    return {
      step: this.step,
      loss,
      lr,
      tokens: rows.reduce((s, r) => s + r.inputIds.length, 0),
      labelTokens,
      epoch: pos.epoch + pos.index / this.packer.samples.length,
      seconds: (performance.now() - t0) / 1000,
      peakBytes: rt.memory().peakBytes,
    };
  }

  /** Mean loss over every labelled token of `samples` (no gradients, file order). */
  async evaluate(samples: SftSampleInput[]): Promise<{ loss: number; labelTokens: number }> {
    const rt = this.model.rt;
    const packer = new Packer(samples, { batchTokens: this.config.batchTokens, seed: 0, shuffle: false });
    const it = packer.iterate();
    let sum = 0;
    let count = 0;
    const wasTraining = this.model.training;
    this.model.training = false;
    try {
      do {
        const row = it.next();
        if (row.labelTokens) {
          const v = await rt.scopeAsync(async () => {
            const { pixels, grids } = await this.rowImages(row);
            return rt.noGrad(() => this.model.forward({ inputIds: row.inputIds, cuSeqlens: Array.from(row.cuSeqlens), labels: row.labels, pixelValues: pixels, imageGridThw: grids, logits: 'none' }).loss!).item();
          });
          sum += v * row.labelTokens;
          count += row.labelTokens;
        }
      } while (it.position.epoch === 0);
    } finally {
      this.model.training = wasTraining;
    }
    return { loss: count ? sum / count : NaN, labelTokens: count };
  }

  /** Everything but the weights needed to continue bit-identically. */
  async state(config: Record<string, unknown>): Promise<TrainingState> {
    const pos = this.iter.position;
    return {
      step: this.step,
      epoch: pos.epoch + pos.index / this.packer.samples.length,
      data: pos,
      rng: this.model.rngState,
      optimizer: await this.optimizer.state(),
      scheduler: this.schedule.state(),
      config,
    };
  }

  /** Continues from a checkpoint's state (the weights are loaded by the caller). */
  restore(state: TrainingState): void {
    const s = this.schedule.state();
    const c = state.scheduler;
    if (c.totalSteps !== s.totalSteps || c.baseLr !== s.baseLr || c.warmupSteps !== s.warmupSteps || c.kind !== s.kind)
      throw new Error(`resume: the checkpoint's schedule ${JSON.stringify(c)} differs from this run's ${JSON.stringify(s)} (same data and options are needed to resume)`);
    this.optimizer.loadState(state.optimizer);
    this.iter = this.packer.iterate(state.data);
    this.model.rngState = state.rng;
    this.step = state.step;
  }

  /** Rows in the first epoch (for ETA and logs). */
  get epochRows(): number {
    return this.rowsPerEpoch;
  }
}
