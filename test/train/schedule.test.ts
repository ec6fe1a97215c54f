import { describe, expect, it } from 'vitest';
import { LrSchedule, constantWithWarmup, cosineWithWarmup, warmupStepsFor } from '../../src/train/schedule.js';

// Values worked out by hand from transformers' formulas (warmup W = 2, total T = 10):
// step < W: step / W; after: ½(1 + cos(π · p)), p = (step − W) / (T − W).
describe('lr schedules', () => {
  it('cosine with warmup matches transformers get_cosine_schedule_with_warmup', () => {
    const expected: [number, number][] = [
      [0, 0],
      [1, 0.5],
      [2, 1], // p = 0
      [4, (2 + Math.SQRT2) / 4], // p = 1/4: ½(1 + √2/2)
      [6, 0.5], // p = 1/2
      [8, (2 - Math.SQRT2) / 4], // p = 3/4
      [10, 0], // p = 1
      [12, (2 - Math.SQRT2) / 4], // p = 5/4: transformers does not clamp p, the cosine rises again
    ];
    for (const [step, f] of expected) expect(cosineWithWarmup(step, 2, 10)).toBeCloseTo(f, 15);
    // without warmup the first update already runs at the full lr
    expect(cosineWithWarmup(0, 0, 4)).toBe(1);
    expect(cosineWithWarmup(2, 0, 4)).toBeCloseTo(0.5, 15);
    // num_cycles 1: a full cosine back to the peak at T
    expect(cosineWithWarmup(10, 2, 10, 1)).toBeCloseTo(1, 15);
    expect(cosineWithWarmup(6, 2, 10, 1)).toBeCloseTo(0, 15);
    // degenerate T = W: max(1, T − W) keeps it finite
    expect(cosineWithWarmup(3, 3, 3)).toBe(1);
  });

  it('constant with warmup', () => {
    expect([0, 1, 2, 3, 4, 5, 100].map((s) => constantWithWarmup(s, 4))).toEqual([0, 0.25, 0.5, 0.75, 1, 1, 1]);
    expect(constantWithWarmup(0, 0)).toBe(1);
  });

  it('scales the base lr, round-trips its state and rejects bad settings', () => {
    const s = new LrSchedule({ kind: 'cosine', baseLr: 2e-5, warmupSteps: 2, totalSteps: 10 });
    expect(s.lr(1)).toBe(1e-5);
    expect(s.lr(6)).toBeCloseTo(1e-5, 20);
    const back = LrSchedule.fromState(JSON.parse(JSON.stringify(s.state())));
    expect([0, 1, 2, 5, 9].map((k) => back.lr(k))).toEqual([0, 1, 2, 5, 9].map((k) => s.lr(k)));
    expect(new LrSchedule({ kind: 'constant', baseLr: 3, warmupSteps: 3, totalSteps: 5 }).lr(1)).toBe(1);
    expect(() => new LrSchedule({ kind: 'linear' as never, baseLr: 1, warmupSteps: 0, totalSteps: 1 })).toThrow(/'cosine' or 'constant'/);
    expect(() => new LrSchedule({ kind: 'cosine', baseLr: 1, warmupSteps: 1.5, totalSteps: 1 })).toThrow(/warmupSteps/);
    expect(() => new LrSchedule({ kind: 'cosine', baseLr: 1, warmupSteps: 0, totalSteps: 0 })).toThrow(/totalSteps/);
  });

  it('rounds a warmup ratio up, as transformers does', () => {
    expect(warmupStepsFor({ ratio: 0.03 }, 100)).toBe(3);
    expect(warmupStepsFor({ ratio: 0.1 }, 25)).toBe(3); // 2.5 → 3
    expect(warmupStepsFor({ ratio: 0 }, 25)).toBe(0);
    expect(warmupStepsFor({ steps: 7 }, 25)).toBe(7);
  });
});
