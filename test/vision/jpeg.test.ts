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
}

describe('JPEG decode (exact against PIL / libjpeg-turbo)', () => {
  it.each(manifest.jpeg as Case[])('$name', async (c) => {
    const img = await decode(fixture(c.file));
    expect([img.width, img.height, img.channels]).toEqual([c.width, c.height, c.channels]);
    expect(diff(img.data, fixture(c.expected))).toEqual({ count: 0, max: 0 });
  });

  it('rejects CMYK', async () => {
    await expect(decode(fixture('jpeg/cmyk.jpg'))).rejects.toThrow(/4-component \(CMYK\/YCCK\) JPEG is not supported/);
  });

  it('rejects a file cut inside the entropy-coded data', async () => {
    const b = fixture('jpeg/pil_420_100x75.jpg');
    await expect(decode(b.subarray(0, Math.floor(b.length * 0.7)))).rejects.toThrow(/ends early|truncated/);
  });

  it('rejects a progressive file missing its later scans', async () => {
    const b = fixture('jpeg/pil_prog_420.jpg');
    const sos = [...b.keys()].filter((i) => b[i] === 0xff && b[i + 1] === 0xda);
    await expect(decode(b.subarray(0, sos[3]))).rejects.toThrow(/truncated/);
  });

  function patchMarker(file: string, from: number, to: number): Uint8Array {
    const b = fixture(file).slice();
    const at = [...b.keys()].find((i) => b[i] === 0xff && b[i + 1] === from)!;
    b[at + 1] = to;
    return b;
  }

  it('names arithmetic-coded and lossless JPEG as unsupported', async () => {
    await expect(decode(patchMarker('jpeg/pil_444.jpg', 0xc0, 0xc9))).rejects.toThrow(/arithmetic-coded sequential JPEG \(SOF9\) is not supported/);
    await expect(decode(patchMarker('jpeg/pil_444.jpg', 0xc0, 0xc3))).rejects.toThrow(/lossless JPEG \(SOF3\)/);
  });

  it('rejects a Huffman table that is not a prefix code', async () => {
    const b = fixture('jpeg/enc_444_rst1.jpg').slice();
    const dht = [...b.keys()].find((i) => b[i] === 0xff && b[i + 1] === 0xc4)!;
    b[dht + 5] = 2; // two 1-bit DC codes (0 and 1): the all-ones code is taken
    b[dht + 8] = 10; // keep the symbol count (12 = 2 + 10)
    await expect(decode(b)).rejects.toThrow(/Huffman table DC0 is not a valid prefix code/);
  });

  it('rejects zero height and corrupt Huffman data', async () => {
    const b = fixture('jpeg/pil_444.jpg').slice();
    const sof = [...b.keys()].find((i) => b[i] === 0xff && b[i + 1] === 0xc0)!;
    b[sof + 5] = 0;
    b[sof + 6] = 0;
    await expect(decode(b)).rejects.toThrow(/zero height/);
    const c = fixture('jpeg/enc_444_rst1.jpg').slice();
    const sos = [...c.keys()].find((i) => c[i] === 0xff && c[i + 1] === 0xda)!;
    c.fill(0xfe, sos + 20, sos + 40); // all-ones prefixes: codes the flat tables never assign
    await expect(decode(c)).rejects.toThrow(/Huffman code not in its table|restart marker is missing/);
  });
});
