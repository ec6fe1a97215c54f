// GpuContext: module defines (values for a shader's `const NAME: u32 = …u;`), staged writes and
// periodic submits.
import { describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../../src/backend/webgpu/backend.js';
import { Params } from '../../src/backend/webgpu/params.js';
import { Runtime } from '../../src/tensor/runtime.js';
import { add } from '../../src/tensor/ops/arith.js';
import { testBackends } from '../helpers/backends.js';

const gpu = (await testBackends()).find((b) => b.name === 'webgpu')?.backend as WebGpuBackend | undefined;

describe.runIf(gpu)('GpuContext defines', () => {
  it('refuses a define the shader does not declare, naming it', () => {
    const ctx = gpu!.ctx;
    expect(() =>
      ctx.dispatch({ label: 'test', shader: 'attention', entry: 'attn_bwd_prep', defines: { NOT_DECLARED: 1 }, bindings: [], params: new Params().u32(0), workgroups: [1] }),
    ).toThrow(/shader 'attention' declares no 'const NOT_DECLARED: u32/);
  });
});

// Small writes are staged and land by a copy recorded in command order, without a submit of their
// own; large ones submit what is recorded and go to the queue. Either way, work recorded before a
// write sees the old contents and work after it the new.
describe.runIf(gpu)('GpuContext writes and submits', () => {
  const ramp = (n: number, k: number): Float32Array => Float32Array.from({ length: n }, (_, i) => k * i + 1);

  for (const [name, n] of [['small (staged)', 64], ['large (submitted)', 40_000]] as const) {
    it(`a ${name} write keeps command order`, async () => {
      const rt = new Runtime(gpu!);
      const ctx = gpu!.ctx;
      const x = rt.tensor(ramp(n, 1), [n]);
      await rt.sync();
      const submits = ctx.submits;
      const before = add(x, x); // recorded, not yet submitted
      ctx.write(x.storage, ramp(n, 3));
      expect(ctx.submits - submits).toBe(name.startsWith('small') ? 0 : 1);
      const after = add(x, x);
      const [b, a] = [await before.f32(), await after.f32()];
      expect(b[n - 1]).toBe(2 * (n - 1 + 1));
      expect(a[n - 1]).toBe(2 * (3 * (n - 1) + 1));
      expect(Array.from(a)).toEqual(Array.from(ramp(n, 3), (v) => 2 * v));
      for (const t of [x, before, after]) t.release();
    });
  }

  it('writes a length that is not a whole number of words, at an offset, leaving the rest', async () => {
    const s = gpu!.alloc(16, 'bytes');
    gpu!.write(s, new Uint8Array(16).fill(9));
    gpu!.write(s, Uint8Array.from([1, 2, 3, 4, 5, 6]), 4);
    expect(Array.from(new Uint8Array(await gpu!.read(s, 0, 12)))).toEqual([9, 9, 9, 9, 1, 2, 3, 4, 5, 6, 0, 0]);
    gpu!.free(s);
  });

  it('submits once 8 MiB of small writes are staged, keeping every one', async () => {
    const ctx = gpu!.ctx;
    const s = gpu!.alloc(1 << 16, 'target');
    await gpu!.sync();
    const submits = ctx.submits;
    for (let i = 0; i < 128; i++) ctx.write(s, new Float32Array(1 << 14).fill(i)); // 128 × 64 KiB, no dispatch between
    expect(ctx.submits - submits).toBe(1);
    expect(new Float32Array(await gpu!.read(s, 0, 16))).toEqual(new Float32Array(4).fill(127));
    gpu!.free(s);
  });

  it('submits every submitEvery dispatches, with the same results', async () => {
    const rt = new Runtime(gpu!);
    const ctx = gpu!.ctx;
    const x = rt.tensor(ramp(8, 1), [8]);
    await rt.sync();
    const old = ctx.submitEvery;
    ctx.submitEvery = 2;
    try {
      const submits = ctx.submits;
      const ys = [x];
      for (let i = 0; i < 4; i++) ys.push(add(ys[i], x));
      expect(ctx.submits - submits).toBe(2);
      expect(Array.from(await ys[4].f32())).toEqual(Array.from(ramp(8, 1), (v) => 5 * v));
      for (const t of ys) t.release();
    } finally {
      ctx.submitEvery = old;
    }
  });
});
