import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { resizeBicubic } from '../../src/vision/resize.js';
import { diff, fixture, manifest } from './fixtures.js';

interface Case {
  name: string;
  mode: 'RGB' | 'L';
  width: number;
  height: number;
  out_width: number;
  out_height: number;
  source: string;
  expected: string;
}

describe('bicubic resize (bit-exact with PIL)', () => {
  it.each(manifest.resample as Case[])('$name', async (c) => {
    const channels = c.mode === 'RGB' ? 3 : 1;
    const out = await resizeBicubic({ width: c.width, height: c.height, channels, data: fixture(c.source) }, c.out_width, c.out_height);
    expect([out.width, out.height, out.channels]).toEqual([c.out_width, c.out_height, channels]);
    expect(diff(out.data, fixture(c.expected))).toEqual({ count: 0, max: 0 });
  });

  it('rejects RGBA and bad sizes', async () => {
    const img = { width: 2, height: 2, channels: 4 as const, data: new Uint8Array(16) };
    await expect(resizeBicubic(img, 4, 4)).rejects.toThrow(/composite it first/);
    await expect(resizeBicubic({ ...img, channels: 1, data: new Uint8Array(4) }, 0, 4)).rejects.toThrow(/must be positive integers/);
    await expect(resizeBicubic({ ...img, channels: 1, data: new Uint8Array(3) }, 4, 4)).rejects.toThrow(/data has 3 bytes/);
  });
});
