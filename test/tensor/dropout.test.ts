// dropout: a seeded host mask, survivors scaled by 1/(1−p), the backward through the same mask.
import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/tensor/runtime.js';
import { backward } from '../../src/tensor/autograd.js';
import { dropoutMask } from '../../src/tensor/ops/dropout.js';
import { Rng } from '../../src/util/rng.js';
import { randomF32, testBackends } from '../helpers/backends.js';

const backends = await testBackends();

describe('dropoutMask', () => {
  it('drops about p of the elements and scales the rest by 1/(1−p), the same for the same seed', () => {
    const p = 0.3;
    const m = dropoutMask(20000, p, new Rng(9));
    const dropped = m.filter((v) => v === 0).length / m.length;
    expect(Math.abs(dropped - p)).toBeLessThan(0.015);
    expect(new Set(m)).toEqual(new Set([0, Math.fround(1 / (1 - p))]));
    expect(dropoutMask(20000, p, new Rng(9))).toEqual(m);
    expect(dropoutMask(20000, p, new Rng(10))).not.toEqual(m);
  });
});

describe.each(backends)('dropout on $name', ({ backend }) => {
  const rt = new Runtime(backend);

  it('forward is x·mask and the gradient is g·mask, with the mask drawn from the rng in order', async () => {
    const shape = [6, 7];
    const x = randomF32(42, 1);
    const g = randomF32(42, 2);
    const p = 0.25;
    const mask = dropoutMask(42, p, new Rng(3));
    await rt.scopeAsync(async () => {
      const xt = rt.parameter(x, shape);
      const rng = new Rng(3);
      const y = rt.ops.dropout(xt, p, rng);
      expect(rng.state).toBe(new Rng(3 + 42 * 0x6d2b79f5).state); // exactly one draw per element
      backward(y, rt.tensor(g, shape));
      expect(await y.f32()).toEqual(Float32Array.from(x, (v, i) => v * mask[i]));
      expect(await xt.grad!.f32()).toEqual(Float32Array.from(g, (v, i) => v * mask[i]));
      xt.grad!.release();
      xt.release();
    });
  });

  it('p = 0 is the identity and draws nothing; p outside [0, 1) is an error', () => {
    rt.scope(() => {
      const x = rt.tensor([1, 2, 3]);
      const rng = new Rng(5);
      expect(rt.ops.dropout(x, 0, rng)).toBe(x);
      expect(rng.state).toBe(5);
      expect(() => rt.ops.dropout(x, 1, rng)).toThrow(/dropout: p must be in \[0, 1\), got 1/);
      expect(() => rt.ops.dropout(x, -0.1, rng)).toThrow(/dropout: p must be in \[0, 1\)/);
    });
  });
});
