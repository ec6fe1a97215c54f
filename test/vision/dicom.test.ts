import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { decode } from '../../src/vision/decode.js';
import type { DicomOptions } from '../../src/vision/dicom.js';
import { diff, fixture, manifest } from './fixtures.js';

interface Case {
  name: string;
  file: string;
  width: number;
  height: number;
  channels: number;
  frames: string[];
  options: DicomOptions;
  note: string;
}

describe('DICOM decode (windowing against numpy)', () => {
  for (const c of manifest.dicom as Case[]) {
    it.each(c.frames.map((f, i) => [i, f] as const))(`${c.name} frame %i (${c.note})`, async (frame, expected) => {
      const img = await decode(fixture(c.file), { ...c.options, frame });
      expect([img.width, img.height, img.channels]).toEqual([c.width, c.height, c.channels]);
      expect(diff(img.data, fixture(expected))).toEqual({ count: 0, max: 0 });
    });
  }

  it('applies a caller window with another VOI function', async () => {
    const file = fixture('dicom/ct_explicit_le.dcm');
    const linear = await decode(file, { window: { center: 40, width: 400 } });
    expect(linear.data).toEqual(fixture('dicom/ct_explicit_le.f0.u8'));
    const sigmoid = await decode(file, { window: { center: 40, width: 400, function: 'SIGMOID' } });
    expect(sigmoid.data).toEqual(fixture('dicom/voi_sigmoid.f0.u8'));
  });

  it.each([
    ['j2k_unsupported.dcm', /transfer syntax JPEG 2000 Lossless \(1\.2\.840\.10008\.1\.2\.4\.90\) is not supported/],
    ['zero_rows.dcm', /zero-size image/],
    ['no_pixels.dcm', /no Pixel Data/],
  ])('rejects %s', async (file, message) => {
    await expect(decode(fixture(`dicom/${file}`))).rejects.toThrow(message);
  });

  it('rejects a truncated file, a missing frame and a bad window', async () => {
    const b = fixture('dicom/ct_explicit_le.dcm');
    await expect(decode(b.subarray(0, b.length - 100))).rejects.toThrow(/truncated|corrupt/);
    await expect(decode(fixture('dicom/multiframe_native.dcm'), { frame: 3 })).rejects.toThrow(/frame 3 does not exist \(the object has 3 frames\)/);
    await expect(decode(b, { window: { center: 0, width: 0 } })).rejects.toThrow(/Window Width 0 is invalid/);
    const rle = fixture('dicom/ct_rle.dcm');
    await expect(decode(rle.subarray(0, rle.length - 300))).rejects.toThrow(/DICOM/);
  });
});
