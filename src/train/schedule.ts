// Learning-rate schedules, as transformers defines them (optimization.py), as multipliers of
// the base lr at optimizer step `step` (0-based: the k-th update uses factor(k), so the first
// update of a warmup runs at lr 0, as HF Trainer's LambdaLR does).
//   cosine:   step < W: step / max(1, W);  else max(0, ½(1 + cos(π · 2c · p))),
//             p = (step − W) / max(1, T − W), c = numCycles (0.5: one half-cosine to 0 at T)
//   constant: step < W: step / max(1, W);  else 1

export type ScheduleKind = 'cosine' | 'constant';

export interface ScheduleConfig {
  kind: ScheduleKind;
  baseLr: number;
  warmupSteps: number;
  /** Total optimizer steps (cosine reaches 0 here). */
  totalSteps: number;
  /** Cosine only; transformers' default 0.5. */
  numCycles?: number;
}

export function cosineWithWarmup(step: number, warmupSteps: number, totalSteps: number, numCycles = 0.5): number {
  if (step < warmupSteps) return step / Math.max(1, warmupSteps);
  const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
  return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * numCycles * 2 * progress)));
}

export function constantWithWarmup(step: number, warmupSteps: number): number {
  if (step < warmupSteps) return step / Math.max(1, warmupSteps);
  return 1;
}

/** Warmup steps from a step count or a ratio of the total (rounded up, as transformers' get_warmup_steps). */
export function warmupStepsFor(warmup: { steps: number } | { ratio: number }, totalSteps: number): number {
  return 'steps' in warmup ? warmup.steps : Math.ceil(totalSteps * warmup.ratio);
}

export class LrSchedule {
  readonly config: Required<ScheduleConfig>;

  constructor(config: ScheduleConfig) {
    const { kind, baseLr, warmupSteps, totalSteps } = config;
    if (kind !== 'cosine' && kind !== 'constant') throw new Error(`lr schedule: kind must be 'cosine' or 'constant', got ${String(kind)}`);
    if (!(Number.isFinite(baseLr) && baseLr >= 0)) throw new Error(`lr schedule: baseLr must be a finite number ≥ 0, got ${baseLr}`);
    if (!(Number.isInteger(warmupSteps) && warmupSteps >= 0)) throw new Error(`lr schedule: warmupSteps must be an integer ≥ 0, got ${warmupSteps}`);
    if (!(Number.isInteger(totalSteps) && totalSteps > 0)) throw new Error(`lr schedule: totalSteps must be a positive integer, got ${totalSteps}`);
    this.config = { kind, baseLr, warmupSteps, totalSteps, numCycles: config.numCycles ?? 0.5 };
  }

  factor(step: number): number {
    const c = this.config;
    return c.kind === 'cosine' ? cosineWithWarmup(step, c.warmupSteps, c.totalSteps, c.numCycles) : constantWithWarmup(step, c.warmupSteps);
  }

  /** The lr of the update that follows `step` completed updates. */
  lr(step: number): number {
    return this.config.baseLr * this.factor(step);
  }

  /** Plain data for checkpoints; the schedule is a function of the step, which the checkpoint holds. */
  state(): Required<ScheduleConfig> {
    return { ...this.config };
  }

  static fromState(state: ScheduleConfig): LrSchedule {
    return new LrSchedule(state);
  }
}
