// The buffer pool gives a repeated sequence of allocations the same buffers in the same places, so
// a repeated training step finds every bind group it made the first time (GpuContext caches them
// by buffer; creating one costs ~50 µs on an H100, a third of a small step's host time).
import { describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../../src/backend/webgpu/backend.js';
import { Runtime } from '../../src/tensor/runtime.js';
import { add, mul } from '../../src/tensor/ops/arith.js';
import { testBackends } from '../helpers/backends.js';

const gpu = (await testBackends()).find((b) => b.name === 'webgpu')?.backend as WebGpuBackend | undefined;

describe.runIf(gpu)('buffer pool', () => {
  it('hands a repeated step the same buffers, so it creates no bind group after the first', async () => {
    const rt = new Runtime(gpu!);
    const p = rt.tensor(Float32Array.from({ length: 64 }, (_, i) => i), [64]);
    const q = rt.tensor(Float32Array.from({ length: 64 }, (_, i) => 1 - i), [64]);
    // Three same-sized intermediates released in allocation order: a last-freed-first pool hands
    // them back reversed, so every other repetition would bind different buffers.
    const step = async (): Promise<number> => {
      const made = gpu!.ctx.bindGroupsMade;
      const x = add(p, q);
      const y = mul(p, q);
      const z = add(x, y);
      const got = await z.f32();
      for (const t of [x, y, z]) t.release();
      expect(got[3]).toBe(-5); // (3 + −2) + 3·(−2)
      return gpu!.ctx.bindGroupsMade - made;
    };
    expect(await step()).toBeGreaterThan(0);
    expect([await step(), await step(), await step()]).toEqual([0, 0, 0]);
    p.release();
    q.release();
  });
});
