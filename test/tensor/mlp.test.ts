// A 2-layer MLP trained with AdamW (+ clipping) on a fixed regression task: it must learn,
// and two runs must give bit-identical losses and weights.
import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/tensor/runtime.js';
import { testBackends } from '../helpers/backends.js';
import { trainMlp } from '../helpers/mlp.js';

const backends = await testBackends();
const STEPS = 200;

describe.each(backends)('MLP training on $name', ({ backend }) => {
  it(`reaches loss < 0.02 in ${STEPS} AdamW steps, bit-identically twice`, async () => {
    const rt = new Runtime(backend);
    const before = rt.memory().liveBytes;
    const a = await trainMlp(rt, STEPS);
    const b = await trainMlp(rt, STEPS);
    expect(a.losses[0]).toBeGreaterThan(0.1);
    expect(a.losses[STEPS - 1]).toBeLessThan(0.02);
    expect(b.losses).toEqual(a.losses);
    expect(Buffer.from(b.weights.buffer).equals(Buffer.from(a.weights.buffer))).toBe(true);
    expect(rt.memory().liveBytes).toBe(before); // nothing leaked
  });
});
