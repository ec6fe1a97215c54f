import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { decode } from '../../src/vision/decode.js';
import { QWEN2VL_DEFAULTS, Qwen2VLImageProcessor } from '../../src/vision/qwen2vl.js';
import { resizeBicubic } from '../../src/vision/resize.js';
import { toRgb } from '../../src/vision/rgb.js';
import { smartResize } from '../../src/vision/smart-resize.js';
import { diff, fixture, fixtureF32, manifest } from './fixtures.js';

interface Case {
  name: string;
  file: string;
  kwargs: Record<string, unknown>;
  grid_thw: [number, number, number];
  shape: [number, number];
  resized: string;
  resized_height: number;
  resized_width: number;
  sha256: string;
  pixel_values?: string;
  pixel_values_sample?: string;
  sample_stride?: number;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('Qwen2-VL image processor against transformers (Qwen2VLImageProcessorPil)', () => {
  it('reads transformers\' saved config into the same defaults', () => {
    expect(manifest.qwen_processor_class).toBe('Qwen2VLImageProcessorPil');
    expect(Qwen2VLImageProcessor.fromConfig(manifest.qwen_default_config).options).toEqual(QWEN2VL_DEFAULTS);
  });

  it.each(manifest.qwen as Case[])('$name: same grid, same resized pixels, same pixel_values', async (c) => {
    const processor = Qwen2VLImageProcessor.fromConfig({ ...manifest.qwen_default_config, ...c.kwargs });
    const image = await decode(fixture(c.file));
    const out = await processor.preprocess(image);
    expect(out.imageGridThw).toEqual([c.grid_thw]);
    expect(out.shape).toEqual(c.shape);
    const resized = await resizeBicubic(await toRgb(image), c.resized_width, c.resized_height);
    expect(diff(resized.data, fixture(c.resized))).toEqual({ count: 0, max: 0 });
    if (c.pixel_values) {
      expect(maxAbsDiff(out.pixelValues, fixtureF32(c.pixel_values))).toBeLessThanOrEqual(1e-6);
    } else {
      const sample = out.pixelValues.filter((_, i) => i % c.sample_stride! === 0);
      expect(maxAbsDiff(sample, fixtureF32(c.pixel_values_sample!))).toBeLessThanOrEqual(1e-6);
    }
    // and bit for bit, over every value
    expect(createHash('sha256').update(new Uint8Array(out.pixelValues.buffer)).digest('hex')).toBe(c.sha256);
  });

  it('batches images by concatenating their patches', async () => {
    const p = new Qwen2VLImageProcessor();
    const a = await decode(fixture('qwen/rgb_56.png'));
    const b = await decode(fixture('qwen/gray_L.png'));
    const [ra, rb, both] = [await p.preprocess(a), await p.preprocess(b), await p.preprocess([a, b])];
    expect(both.imageGridThw).toEqual([...ra.imageGridThw, ...rb.imageGridThw]);
    expect(both.shape).toEqual([ra.shape[0] + rb.shape[0], ra.shape[1]]);
    expect(both.pixelValues).toEqual(new Float32Array([...ra.pixelValues, ...rb.pixelValues]));
  });

  it('rejects what transformers rejects, with the reason', async () => {
    const grey = { width: 201, height: 1, channels: 1 as const, data: new Uint8Array(201) };
    await expect(new Qwen2VLImageProcessor().preprocess(grey)).rejects.toThrow(/aspect ratio 201 .* over 200/);
    await expect(new Qwen2VLImageProcessor({ doConvertRgb: false }).preprocess({ ...grey, width: 40, data: new Uint8Array(40) }))
      .rejects.toThrow(/1 channel\(s\) and doConvertRgb is off/);
    expect(() => Qwen2VLImageProcessor.fromConfig({ resample: 2 })).toThrow(/resample=2 is not supported/);
    expect(() => Qwen2VLImageProcessor.fromConfig({ image_mean: [0.5, 0.5] })).toThrow(/image_mean must be a number or 3 numbers/);
    expect(() => new Qwen2VLImageProcessor({ patchSize: 0 })).toThrow(/patchSize must be a positive integer/);
    await expect(new Qwen2VLImageProcessor({ doResize: false }).preprocess({ ...grey, width: 30, height: 28, data: new Uint8Array(840) }))
      .rejects.toThrow(/multiple of patch×merge = 28/);
  });
});

describe('smart_resize against transformers', () => {
  it.each(manifest.smart_resize as { height: number; width: number; min_pixels: number; max_pixels: number; factor: number; result?: number[]; error?: string }[])(
    '$height×$width min $min_pixels max $max_pixels factor $factor',
    (c) => {
      const run = () => smartResize(c.height, c.width, c.factor, c.min_pixels, c.max_pixels);
      if (c.error) expect(run).toThrow(/aspect ratio .* over 200/);
      else expect(run()).toEqual(c.result);
    },
  );
});
