import { describe, expect, it } from 'vitest';
import { downloadF32, downloadI32, testBackends } from '../helpers/backends.js';

const backends = await testBackends();

describe.each(backends)('fill on $name', ({ backend }) => {
  it.each([1, 7, 256, 1000, 70_001])('fills %i f32 elements', async (n) => {
    const s = backend.alloc(n * 4 + 16, 'test');
    backend.fill({ out: s, n: n + 4, value: -1, dtype: 'f32' }); // poison past n
    backend.fill({ out: s, n, value: 1.5, dtype: 'f32' });
    const got = await downloadF32(backend, s, n + 4);
    expect(got.subarray(0, n).every((v) => v === 1.5)).toBe(true);
    expect(Array.from(got.subarray(n))).toEqual([-1, -1, -1, -1]);
    backend.free(s);
  });
  it('fills i32', async () => {
    const s = backend.alloc(40, 'test');
    backend.fill({ out: s, n: 10, value: -100, dtype: 'i32' });
    expect(Array.from(await downloadI32(backend, s, 10))).toEqual(new Array(10).fill(-100));
    backend.free(s);
  });
});
