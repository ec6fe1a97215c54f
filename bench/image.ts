// Image input throughput (images/s, one image at a time): decode, Qwen2.5-VL preprocessing
// (smart_resize, PIL-exact bicubic, normalize, patch flattening) and both together, for a
// 1024×1024 RGB PNG and a 512×512 16-bit DICOM, beside sharp (libvips) on the same inputs.
// sharp resizes with its cubic kernel but cannot emit normalized floats (linear() clamps to the
// pipeline's integer range), so its full pipeline is sharp decode+resize, then the same
// normalize-and-flatten in JS; "sharp resize only" is the lower bound of its time.
// The suite uses no GPU: run it once, e.g. `bench.js image --device wasm`.
import { decode } from '../src/vision/decode.js';
import { Qwen2VLImageProcessor } from '../src/vision/qwen2vl.js';
import type { DecodedImage } from '../src/vision/image.js';
import type { Row, SuiteOutput } from './suite.js';

const REPEATS = 21;
/** Qwen2.5-VL's preprocessor_config.json (the class default caps max_pixels lower). */
const QWEN25VL = { min_pixels: 3136, max_pixels: 12845056, patch_size: 14, temporal_patch_size: 2, merge_size: 2 };

type Sharp = (typeof import('sharp'))['default'];

/** Loaded from node_modules at run time, not bundled: a native addon. */
function importUnbundled<T>(specifier: string): Promise<T> {
  return import(specifier) as Promise<T>;
}

/** A smooth, radiograph-like test picture with mild noise (deterministic). */
function picture(width: number, height: number, channels: 1 | 3, max: number): number[][] {
  let seed = 20240605;
  const rand = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rows: number[][] = [];
  for (let y = 0; y < height; y++) {
    const row: number[] = [];
    for (let x = 0; x < width; x++) {
      const r = Math.hypot(x - width / 2, y - height / 2) / width;
      const base = 0.5 + 0.35 * Math.cos(6 * r) * Math.sin(x / 37) + 0.1 * Math.sin(y / 11);
      for (let c = 0; c < channels; c++) row.push(Math.round(Math.min(1, Math.max(0, base + 0.04 * c + 0.03 * (rand() - 0.5))) * max));
    }
    rows.push(row);
  }
  return rows;
}

/** A minimal DICOM Part 10 file: explicit VR little endian, MONOCHROME2, 12 of 16 bits, with a window. */
function dicom(width: number, height: number, pixels: Uint16Array): Uint8Array {
  const el = (group: number, elem: number, vr: string, value: Uint8Array): Uint8Array => {
    const padded = value.length % 2 ? value.length + 1 : value.length;
    const long = vr === 'OB' || vr === 'OW';
    const head = long ? 12 : 8;
    const out = new Uint8Array(head + padded).fill(vr === 'UI' || long ? 0 : 0x20, head + value.length);
    const d = new DataView(out.buffer);
    d.setUint16(0, group, true);
    d.setUint16(2, elem, true);
    out.set([vr.charCodeAt(0), vr.charCodeAt(1)], 4);
    if (long) d.setUint32(8, padded, true);
    else d.setUint16(6, padded, true);
    out.set(value, head);
    return out;
  };
  const text = (s: string) => new TextEncoder().encode(s);
  const us = (n: number) => new Uint8Array([n & 255, n >> 8]);
  const meta = [el(2, 1, 'OB', new Uint8Array([0, 1])), el(2, 0x10, 'UI', text('1.2.840.10008.1.2.1'))];
  const parts = [
    new Uint8Array(128), text('DICM'), el(2, 0, 'UL', new Uint8Array(new Uint32Array([meta[0].length + meta[1].length]).buffer)), ...meta,
    el(0x28, 2, 'US', us(1)), el(0x28, 4, 'CS', text('MONOCHROME2')), el(0x28, 0x10, 'US', us(height)), el(0x28, 0x11, 'US', us(width)),
    el(0x28, 0x100, 'US', us(16)), el(0x28, 0x101, 'US', us(12)), el(0x28, 0x102, 'US', us(11)), el(0x28, 0x103, 'US', us(0)),
    el(0x28, 0x1050, 'DS', text('2048')), el(0x28, 0x1051, 'DS', text('3000')),
    el(0x7fe0, 0x10, 'OW', new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/** pixel_values from 8-bit resized pixels (1 or 3 channels), as the processor lays them out. */
function patchifyJs(pixels: Uint8Array, width: number, height: number, channels: number, lut: Float32Array): Float32Array {
  const { patch_size: p, temporal_patch_size: t, merge_size: m } = QWEN25VL;
  const out = new Float32Array(width * height * 3 * t);
  let o = 0;
  for (let by = 0; by < height / p / m; by++)
    for (let bx = 0; bx < width / p / m; bx++)
      for (let my = 0; my < m; my++)
        for (let mx = 0; mx < m; mx++)
          for (let c = 0; c < 3; c++) {
            const start = o;
            const src = channels === 1 ? 0 : c;
            for (let y = 0; y < p; y++) {
              let i = (((by * m + my) * p + y) * width + (bx * m + mx) * p) * channels + src;
              for (let x = 0; x < p; x++, i += channels) out[o++] = lut[c * 256 + pixels[i]];
            }
            for (let k = 1; k < t; k++, o += p * p) out.copyWithin(o, start, start + p * p);
          }
  return out;
}

interface Engine {
  name: string;
  run: () => Promise<unknown>;
}

/** Median seconds per run of each engine, the engines taking turns so they share the machine's
 *  load (the bench machine is shared and noisy). */
async function compare(engines: Engine[]): Promise<number[]> {
  for (const e of engines) for (let i = 0; i < 2; i++) await e.run();
  const times = engines.map(() => [] as number[]);
  for (let r = 0; r < REPEATS; r++) {
    for (const [i, e] of engines.entries()) {
      const t = performance.now();
      await e.run();
      times[i].push((performance.now() - t) / 1000);
    }
  }
  return times.map((ts) => ts.sort((a, b) => a - b)[REPEATS >> 1]);
}

export async function imageSuite(): Promise<SuiteOutput> {
  const { default: sharp } = await importUnbundled<{ default: Sharp }>('sharp');
  const processor = Qwen2VLImageProcessor.fromConfig(QWEN25VL);
  // the same float32 table the processor uses (rescale, then normalize with the CLIP mean/std)
  const o = processor.options;
  const lut = new Float32Array(768).map((_, i) => Math.fround(Math.fround(Math.fround((i & 255) * o.rescaleFactor) - Math.fround(o.imageMean[i >> 8])) / Math.fround(o.imageStd[i >> 8])));

  const rgb = new Uint8Array(picture(1024, 1024, 3, 255).flat());
  const png = new Uint8Array(await sharp(rgb, { raw: { width: 1024, height: 1024, channels: 3 } }).png().toBuffer());
  const dcm = dicom(512, 512, new Uint16Array(picture(512, 512, 1, 4095).flat()));
  const inputs: { name: string; bytes: Uint8Array; sharpDecodes: boolean }[] = [
    { name: `PNG 1024×1024 RGB (${(png.length / 1e6).toFixed(2)} MB)`, bytes: png, sharpDecodes: true },
    { name: 'DICOM 512×512 16-bit', bytes: dcm, sharpDecodes: false },
  ];

  const rows: Row[] = [];
  for (const input of inputs) {
    const img: DecodedImage = await decode(input.bytes);
    const [h, w] = processor.targetSize(img.height, img.width);
    const rawOpts = { raw: { width: img.width, height: img.height, channels: img.channels } } as const;
    const resize = (s: ReturnType<Sharp>) => s.resize(w, h, { kernel: 'cubic', fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
    const resizeAndFlatten = async (s: ReturnType<Sharp>) => {
      const { data, info } = await resize(s);
      return patchifyJs(data, info.width, info.height, info.channels, lut);
    };
    const steps: [string, Engine[]][] = [
      ['decode', [
        { name: 'mede2 (wasm)', run: () => decode(input.bytes) },
        ...(input.sharpDecodes ? [{ name: 'sharp (libvips)', run: () => sharp(input.bytes).raw().toBuffer() }] : []),
      ]],
      ['preprocess', [
        { name: 'mede2 (wasm)', run: () => processor.preprocess(img) },
        { name: 'sharp resize only', run: () => resize(sharp(img.data, rawOpts)) },
        { name: 'sharp resize + JS normalize/flatten', run: () => resizeAndFlatten(sharp(img.data, rawOpts)) },
      ]],
      ['decode+preprocess', [
        { name: 'mede2 (wasm)', run: async () => processor.preprocess(await decode(input.bytes)) },
        input.sharpDecodes
          ? { name: 'sharp decode+resize + JS', run: () => resizeAndFlatten(sharp(input.bytes)) }
          : { name: 'mede2 decode + sharp resize + JS', run: async () => resizeAndFlatten(sharp((await decode(input.bytes)).data, rawOpts)) },
      ]],
    ];
    for (const [step, engines] of steps) {
      const seconds = await compare(engines);
      engines.forEach((e, i) =>
        rows.push({ input: `${input.name} → ${w}×${h}`, step, engine: e.name, ms: seconds[i] * 1000, 'images/s': 1 / seconds[i], 'ours ×': seconds[i] / seconds[0] }),
      );
    }
  }
  rows.push({ input: `sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, libvips threads: ${sharp.concurrency()}` });
  return { timing: `wall clock, median of ${REPEATS} rounds (engines take turns) after 2 warm-up runs each, one image at a time`, rows };
}
