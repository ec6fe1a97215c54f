// The kernel profiler (src/backend/webgpu/profiler.ts) on the WebGPU adapter present (lavapipe in CI):
// every dispatch is counted under its label, times are non-negative and sum to no more than the
// wall time of the profiled work, results are unchanged, and misuse fails with a clear error.
import { describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../../src/backend/webgpu/backend.js';
import { downloadF32, testBackends } from '../helpers/backends.js';

const gpu = (await testBackends()).find((b) => b.name === 'webgpu')?.backend as WebGpuBackend | undefined;
const timestamps = gpu?.info.features.includes('timestamp-query') ?? false;

describe.runIf(gpu && timestamps)('kernel profiler', () => {
  it('counts every dispatch per label, with GPU times that fit in the wall time', async () => {
    const b = gpu!;
    const out = b.alloc(4 * 1000, 'profiled');
    const t0 = performance.now();
    b.ctx.startProfile();
    for (let i = 0; i < 3; i++) b.fill({ out, n: 1000, value: i + 0.5, dtype: 'f32' });
    b.fill({ out, n: 10, value: 7, dtype: 'f32' });
    const times = await b.ctx.endProfile();
    const wall = performance.now() - t0;
    const labels = times.map((t) => t.label);
    expect(labels.every((l) => l.startsWith('basic.') || l.includes('fill'))).toBe(true);
    expect(times.reduce((n, t) => n + t.calls, 0)).toBe(4);
    for (const t of times) expect(t.ms).toBeGreaterThanOrEqual(0);
    expect(times.reduce((s, t) => s + t.ms, 0)).toBeLessThanOrEqual(wall);
    const got = await downloadF32(b, out, 1000);
    expect(got[0]).toBe(7);
    expect(got[999]).toBe(2.5);
    b.free(out);
  });

  it('spans more dispatches than query sets hold, each dispatch keeping its own parameters', async () => {
    // The query set rolls over every 2048 dispatches (a submit mid-recording). Dispatch 4096 opens the
    // third set: it alone fills 4 elements, so its parameters being overwritten by a later dispatch's
    // (which fill 1) before they reach the GPU would leave elements 1..3 as they were.
    const b = gpu!;
    const out = b.alloc(16, 'profiled');
    b.fill({ out, n: 4, value: -7, dtype: 'f32' });
    b.ctx.startProfile();
    for (let i = 0; i < 6300; i++) b.fill({ out, n: i === 4096 ? 4 : 1, value: i, dtype: 'f32' });
    const times = await b.ctx.endProfile();
    expect(times.reduce((n, t) => n + t.calls, 0)).toBe(6300);
    expect(Array.from(await downloadF32(b, out, 4))).toEqual([6299, 4096, 4096, 4096]);
    b.free(out);
  });

  it('rejects a second start and an end without a start', async () => {
    const b = gpu!;
    b.ctx.startProfile();
    expect(() => b.ctx.startProfile()).toThrow(/already open/);
    await b.ctx.endProfile();
    await expect(b.ctx.endProfile()).rejects.toThrow(/no profile is open/);
  });
});

describe.runIf(gpu && !timestamps)('kernel profiler without timestamp-query', () => {
  it('says which feature is missing', () => {
    expect(() => gpu!.ctx.startProfile()).toThrow(/timestamp-query/);
  });
});
