// The live progress line: step, loss, lr, tokens/s, ETA, peak GPU memory.
import { fmtBytes } from '../util/format.js';
import type { StepReport } from './sft.js';

export class Progress {
  private tokens = 0;
  private seconds = 0;

  constructor(readonly totalSteps: number) {}

  /** Adds a step's report (call it for every step) and returns its line. */
  line(r: StepReport): string {
    this.tokens += r.tokens;
    this.seconds += r.seconds;
    const rate = this.tokens / Math.max(this.seconds, 1e-9);
    const eta = (this.seconds / r.step) * (this.totalSteps - r.step);
    return (
      `step ${String(r.step).padStart(String(this.totalSteps).length)}/${this.totalSteps}` +
      `  loss ${r.loss.toFixed(4)}  lr ${r.lr.toExponential(2)}  ${rate.toFixed(0)} tok/s` +
      `  ETA ${fmtDuration(eta)}  epoch ${r.epoch.toFixed(2)}  peak ${fmtBytes(r.peakBytes)}`
    );
  }

  get tokensPerSecond(): number {
    return this.tokens / Math.max(this.seconds, 1e-9);
  }
}

export function fmtDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m`;
}
