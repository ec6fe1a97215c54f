// Qwen2-VL / Qwen2.5-VL image processor, as transformers' Qwen2VLImageProcessorPil (5.x, the PIL
// backend; the slow Qwen2VLImageProcessor of 4.x): convert to RGB (grey replicated, alpha dropped
// as PIL's convert("RGB") does — transformers 4.x composited RGBA on white instead),
// smart_resize to multiples of patch·merge, PIL bicubic resize, rescale and normalize in float32,
// the image repeated to temporal_patch_size frames, and patches flattened with merge_size grouping:
// pixel_values [patches, 3·T·P·P] and image_grid_thw [1, H/P, W/P] per image.
import { checkImage, type DecodedImage } from './image.js';
import { smartResize } from './smart-resize.js';
import { imageModule } from './wasm.js';

export interface Qwen2VLImageProcessorOptions {
  doResize: boolean;
  minPixels: number;
  maxPixels: number;
  doRescale: boolean;
  rescaleFactor: number;
  doNormalize: boolean;
  imageMean: [number, number, number];
  imageStd: [number, number, number];
  doConvertRgb: boolean;
  patchSize: number;
  temporalPatchSize: number;
  mergeSize: number;
}

/** transformers 5.x class defaults (Qwen2.5-VL checkpoints override max_pixels in their config). */
export const QWEN2VL_DEFAULTS: Readonly<Qwen2VLImageProcessorOptions> = Object.freeze<Qwen2VLImageProcessorOptions>({
  doResize: true,
  minPixels: 56 * 56,
  maxPixels: 28 * 28 * 1280,
  doRescale: true,
  rescaleFactor: 1 / 255,
  doNormalize: true,
  imageMean: [0.48145466, 0.4578275, 0.40821073],
  imageStd: [0.26862954, 0.26130258, 0.27577711],
  doConvertRgb: true,
  patchSize: 14,
  temporalPatchSize: 2,
  mergeSize: 2,
});

export interface Qwen2VLBatch {
  /** Row-major [patches, 3 · temporalPatchSize · patchSize²]. */
  pixelValues: Float32Array;
  shape: [number, number];
  /** [t, h, w] per image, in patches. */
  imageGridThw: [number, number, number][];
}

const PIL_BICUBIC = 3;

function bool(cfg: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = cfg[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new Error(`preprocessor config: ${key} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function num(cfg: Record<string, unknown>, key: string, fallback: number): number {
  const v = cfg[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`preprocessor config: ${key} must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function triple(cfg: Record<string, unknown>, key: string, fallback: [number, number, number]): [number, number, number] {
  const v = cfg[key];
  if (v === undefined) return fallback;
  if (typeof v === 'number') return [v, v, v];
  if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number')) {
    throw new Error(`preprocessor config: ${key} must be a number or 3 numbers (one per RGB channel), got ${JSON.stringify(v)}`);
  }
  return v as [number, number, number];
}

/** Options from a preprocessor_config.json object, with transformers' precedence: min_pixels /
 *  max_pixels override size.shortest_edge / size.longest_edge (or size.min_pixels / max_pixels). */
export function qwen2vlOptionsFromConfig(config: unknown): Qwen2VLImageProcessorOptions {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new Error('preprocessor config: expected a JSON object');
  const cfg = config as Record<string, unknown>;
  const resample = num(cfg, 'resample', PIL_BICUBIC);
  if (resample !== PIL_BICUBIC) throw new Error(`preprocessor config: resample=${resample} is not supported; Qwen2-VL uses 3 (BICUBIC)`);
  const size = (cfg.size ?? {}) as Record<string, unknown>;
  if (typeof size !== 'object') throw new Error('preprocessor config: size must be an object');
  const d = QWEN2VL_DEFAULTS;
  return {
    doResize: bool(cfg, 'do_resize', d.doResize),
    minPixels: num(cfg, 'min_pixels', num(size, 'shortest_edge', num(size, 'min_pixels', d.minPixels))),
    maxPixels: num(cfg, 'max_pixels', num(size, 'longest_edge', num(size, 'max_pixels', d.maxPixels))),
    doRescale: bool(cfg, 'do_rescale', d.doRescale),
    rescaleFactor: num(cfg, 'rescale_factor', d.rescaleFactor),
    doNormalize: bool(cfg, 'do_normalize', d.doNormalize),
    imageMean: triple(cfg, 'image_mean', d.imageMean),
    imageStd: triple(cfg, 'image_std', d.imageStd),
    doConvertRgb: bool(cfg, 'do_convert_rgb', d.doConvertRgb),
    patchSize: num(cfg, 'patch_size', d.patchSize),
    temporalPatchSize: num(cfg, 'temporal_patch_size', d.temporalPatchSize),
    mergeSize: num(cfg, 'merge_size', d.mergeSize),
  };
}

function validate(o: Qwen2VLImageProcessorOptions): void {
  for (const k of ['patchSize', 'temporalPatchSize', 'mergeSize', 'minPixels', 'maxPixels'] as const) {
    if (!Number.isInteger(o[k]) || o[k] <= 0) throw new Error(`Qwen2VLImageProcessor: ${k} must be a positive integer, got ${o[k]}`);
  }
  if (o.imageStd.some((s) => s === 0)) throw new Error('Qwen2VLImageProcessor: imageStd has a zero entry');
}

export class Qwen2VLImageProcessor {
  readonly options: Readonly<Qwen2VLImageProcessorOptions>;
  /** pixel byte → model value, per channel (3 × 256): rescale then normalize, in float32 like numpy. */
  private readonly lut: Float32Array;

  constructor(options: Partial<Qwen2VLImageProcessorOptions> = {}) {
    this.options = Object.freeze({ ...QWEN2VL_DEFAULTS, ...options });
    validate(this.options);
    this.lut = new Float32Array(3 * 256);
    const f = Math.fround;
    const o = this.options;
    for (let c = 0; c < 3; c++) {
      const mean = f(o.imageMean[c]);
      const std = f(o.imageStd[c]);
      for (let v = 0; v < 256; v++) {
        let x = o.doRescale ? f(v * o.rescaleFactor) : v; // numpy: float64 product, cast to float32
        if (o.doNormalize) x = f(f(x - mean) / std);
        this.lut[c * 256 + v] = x;
      }
    }
  }

  /** From a parsed preprocessor_config.json. */
  static fromConfig(config: unknown): Qwen2VLImageProcessor {
    return new Qwen2VLImageProcessor(qwen2vlOptionsFromConfig(config));
  }

  /** [height, width] the image is resized to. */
  targetSize(height: number, width: number): [number, number] {
    const o = this.options;
    const factor = o.patchSize * o.mergeSize;
    if (o.doResize) return smartResize(height, width, factor, o.minPixels, o.maxPixels);
    if (height % factor || width % factor) {
      throw new Error(`Qwen2VLImageProcessor: with doResize off the image (${width}×${height}) must be a multiple of patch×merge = ${factor} on both sides`);
    }
    return [height, width];
  }

  async preprocess(images: DecodedImage | DecodedImage[]): Promise<Qwen2VLBatch> {
    const list = Array.isArray(images) ? images : [images];
    if (!list.length) throw new Error('Qwen2VLImageProcessor: no images');
    const o = this.options;
    const dim = 3 * o.temporalPatchSize * o.patchSize * o.patchSize;
    const m = await imageModule();
    const parts: Float32Array[] = [];
    const grids: [number, number, number][] = [];
    for (const [i, image] of list.entries()) {
      checkImage(image, `Qwen2VLImageProcessor image ${i}`);
      if (!o.doConvertRgb && image.channels !== 3) {
        throw new Error(`Qwen2VLImageProcessor: image ${i} has ${image.channels} channel(s) and doConvertRgb is off; give RGB or turn it on`);
      }
      const [h, w] = this.targetSize(image.height, image.width);
      const rows = (h / o.patchSize) * (w / o.patchSize);
      parts.push(
        m.scratch((a) => {
          const n = image.width * image.height;
          const rgbx = a.alloc(n * 4, 'RGBX image');
          m.x.to_rgbx(a.put(image.data, 'image'), n, image.channels, rgbx);
          const resized = a.alloc(h * w * 4, 'resized image');
          m.x.resize_bicubic(rgbx, image.width, image.height, resized, w, h);
          const out = a.alloc(rows * dim * 4, 'pixel_values');
          m.x.patchify(resized, w, h, o.patchSize, o.mergeSize, o.temporalPatchSize, a.put(this.lut, 'normalization table'), out);
          const values = new Float32Array(rows * dim); // a fresh buffer + set copies faster than slice()
          values.set(m.floats(out, rows * dim));
          return values;
        }),
      );
      grids.push([1, h / o.patchSize, w / o.patchSize]);
    }
    const total = parts.reduce((s, p) => s + p.length, 0);
    const pixelValues = parts.length === 1 ? parts[0] : new Float32Array(total);
    if (parts.length > 1) parts.reduce((at, p) => (pixelValues.set(p, at), at + p.length), 0);
    return { pixelValues, shape: [total / dim, dim], imageGridThw: grids };
  }
}
