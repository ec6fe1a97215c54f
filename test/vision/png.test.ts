import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { decode } from '../../src/vision/decode.js';
import { diff, fixture, manifest } from './fixtures.js';

interface Case {
  name: string;
  file: string;
  width: number;
  height: number;
  channels: number;
  expected: string;
  pil_agrees: boolean;
}

describe('PNG decode', () => {
  it.each(manifest.png as Case[])('$name equals the reference decode', async (c) => {
    const img = await decode(fixture(c.file));
    expect([img.width, img.height, img.channels]).toEqual([c.width, c.height, c.channels]);
    expect(diff(img.data, fixture(c.expected))).toEqual({ count: 0, max: 0 });
  });

  it('cross-checks against PIL for all but the tRNS cases PIL itself mishandles', () => {
    const disagree = (manifest.png as Case[]).filter((c) => !c.pil_agrees).map((c) => c.name);
    // PIL keeps 16-bit grey as I;16 (no alpha from tRNS), compares 16-bit RGB keys against 8-bit data
    // and 2-bit grey keys against scaled values; everything else matches PIL byte for byte.
    expect(disagree.every((n) => /_d16_trns|ct0_d2_trns/.test(n))).toBe(true);
  });

  it.each([
    ['bad_crc.png', /IDAT .*fails its CRC/],
    ['zero_width.png', /zero-size image \(0×4\)/],
    ['bad_depth.png', /bit depth 4 is not allowed for colour type 2/],
    ['short_data.png', /truncated \(\d+ of \d+ bytes after inflate\)/],
    ['bad_filter.png', /unknown filter type/],
  ])('rejects %s', async (file, message) => {
    await expect(decode(fixture(`png/${file}`))).rejects.toThrow(message);
  });

  it('rejects a file cut short', async () => {
    const b = fixture('png/ct2_d8.png');
    await expect(decode(b.subarray(0, b.length - 40))).rejects.toThrow(/PNG: truncated/);
  });
});
