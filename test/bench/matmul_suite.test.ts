// The matmul benchmark's shape filter (`--shapes`): only the shapes named run, and a filter
// naming none is an error that lists the shapes there are.
import { describe, expect, it } from 'vitest';
import { matmulSuite } from '../../bench/matmul.js';
import { testBackends } from '../helpers/backends.js';

const wasm = (await testBackends()).find((b) => b.name === 'wasm')!.backend;

describe('matmul benchmark shapes', () => {
  it('runs only the shapes whose name contains a part of --shapes', async () => {
    const out = await matmulSuite(wasm, { variants: 'chosen', shapes: ['decode up x·Wᵀ', 'decode up bf16'] });
    expect(out.rows.map((r) => r.shape)).toEqual(['decode up x·Wᵀ', 'decode up bf16 W']);
    for (const r of out.rows) expect(r.gflops as number).toBeGreaterThan(0);
  });

  it('a filter naming no shape is an error listing them', async () => {
    await expect(matmulSuite(wasm, { variants: 'chosen', shapes: ['nope'] })).rejects.toThrow(/^matmul bench: --shapes nope names none of this backend's shapes \(square 256; .*decode up bf16 W\)$/);
  });
});
