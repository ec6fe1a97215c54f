// DICOM Part 10 → 8-bit image. Parsing with dicom-parser; pixel data: native (implicit/explicit
// little endian, explicit big endian, deflated), RLE Lossless and JPEG Baseline (our JPEG decoder).
// Grey images go through the modality rescale (slope/intercept) and a VOI window — from the
// caller, else the file's first Window Center/Width with its VOI LUT Function, else the frame's
// min..max (8-bit data without rescale keeps its values) — and MONOCHROME1 is inverted.
// RGB images (RGB, or YBR in JPEG) come back as RGB8.
import dicomParser from 'dicom-parser';
import { inflateSync } from 'fflate';
import { checkSize, type DecodedImage } from './image.js';
import { decodeJpeg } from './jpeg.js';
import type { ImageModule } from './wasm.js';

export interface DicomWindow {
  center: number;
  width: number;
  /** PS3.3 C.11.2.1.2 VOI LUT Function; default LINEAR. */
  function?: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';
}

export interface DicomOptions {
  /** Frame of a multi-frame object, 0-based (default 0). */
  frame?: number;
  /** Overrides the file's window. */
  window?: DicomWindow;
}

const NATIVE: Record<string, string> = {
  '1.2.840.10008.1.2': 'implicit VR little endian',
  '1.2.840.10008.1.2.1': 'explicit VR little endian',
  '1.2.840.10008.1.2.2': 'explicit VR big endian',
  '1.2.840.10008.1.2.1.99': 'deflated explicit VR little endian',
};
const RLE = '1.2.840.10008.1.2.5';
const JPEG_BASELINE = ['1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51'];
const KNOWN_UNSUPPORTED: Record<string, string> = {
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless', '1.2.840.10008.1.2.4.70': 'JPEG Lossless SV1',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless', '1.2.840.10008.1.2.4.81': 'JPEG-LS Near-Lossless',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 Lossless', '1.2.840.10008.1.2.4.91': 'JPEG 2000',
  '1.2.840.10008.1.2.4.201': 'HTJ2K Lossless', '1.2.840.10008.1.2.4.202': 'HTJ2K Lossless RPCL', '1.2.840.10008.1.2.4.203': 'HTJ2K',
  '1.2.840.10008.1.2.4.100': 'MPEG-2', '1.2.840.10008.1.2.4.102': 'MPEG-4', '1.2.840.10008.1.2.4.110': 'JPEG XL',
};
// codes of grey_to_u8 (assembly/image/dicom.ts)
const VOI_CODES = { LINEAR: 0, LINEAR_EXACT: 1, SIGMOID: 2, MINMAX: 3, IDENTITY: 4 } as const;
const VOI_FUNCTIONS: string[] = ['LINEAR', 'LINEAR_EXACT', 'SIGMOID'];
// status codes of rle_decode (assembly/image/dicom.ts)
const RLE_ERRORS: Record<number, string> = {
  [-1]: 'its segment count does not match samples × bytes per sample',
  [-2]: 'a segment offset points outside the fragment',
  [-3]: 'a segment decodes to fewer bytes than the frame needs (truncated)',
};

export function isDicom(b: Uint8Array): boolean {
  return b.length >= 132 && b[128] === 0x44 && b[129] === 0x49 && b[130] === 0x43 && b[131] === 0x4d;
}

type DataSet = ReturnType<typeof dicomParser.parseDicom>;

function parse(bytes: Uint8Array): DataSet {
  try {
    return dicomParser.parseDicom(bytes, {
      // deflated transfer syntax: the header bytes, then the inflated data set (fflate, in both runtimes)
      inflater: (arr: Uint8Array, position: number) => {
        const inflated = inflateSync(arr.subarray(position));
        const full = new Uint8Array(position + inflated.length);
        full.set(arr.subarray(0, position));
        full.set(inflated, position);
        return full;
      },
    } as dicomParser.ParseDicomOptions);
  } catch (e) {
    throw new Error(`DICOM: cannot parse the file (${e instanceof Error ? e.message : String(e)}); it is corrupt or truncated`);
  }
}

/** The caller's window, else the file's first Window Center/Width (with its VOI LUT Function). */
function windowOf(ds: DataSet, given: DicomWindow | undefined): DicomWindow | undefined {
  let w = given;
  const center = ds.floatString('x00281050'); // first of possibly several windows
  const width = ds.floatString('x00281051');
  if (!w && center !== undefined && width !== undefined) w = { center, width, function: ds.string('x00281056') as DicomWindow['function'] };
  if (!w) return undefined;
  const fn = w.function ?? 'LINEAR';
  if (!VOI_FUNCTIONS.includes(fn)) throw new Error(`DICOM: VOI LUT Function '${fn}' is not supported (LINEAR, LINEAR_EXACT, SIGMOID)`);
  if (!Number.isFinite(w.center) || !Number.isFinite(w.width)) throw new Error(`DICOM: window center/width must be numbers, got ${w.center}/${w.width}`);
  if (fn === 'LINEAR' ? w.width < 1 : w.width <= 0) throw new Error(`DICOM: Window Width ${w.width} is invalid (${fn} needs ${fn === 'LINEAR' ? '≥ 1' : '> 0'})`);
  return { ...w, function: fn };
}

/** The bytes of one frame as stored (native) or as decoded (RLE): interleaved little-endian samples. */
function frameBytes(ds: DataSet, ts: string, frame: number, frameSize: number, bytesPerSample: number, samples: number, pixels: number, m: ImageModule): Uint8Array {
  const el = ds.elements.x7fe00010;
  if (!el) throw new Error('DICOM: no Pixel Data (7FE0,0010) element');
  if (ts in NATIVE) {
    if (el.encapsulatedPixelData) throw new Error('DICOM: encapsulated Pixel Data in a native transfer syntax (file corrupt)');
    const start = el.dataOffset + frame * frameSize;
    const avail = Math.min(el.length, ds.byteArray.length - el.dataOffset);
    if ((frame + 1) * frameSize > avail) {
      throw new Error(`DICOM: Pixel Data holds ${avail} bytes, frame ${frame} needs bytes ${frame * frameSize}..${(frame + 1) * frameSize} (truncated or wrong Rows/Columns/Bits Allocated)`);
    }
    const raw = ds.byteArray.slice(start, start + frameSize);
    if (ts === '1.2.840.10008.1.2.2' && bytesPerSample === 2) {
      for (let i = 0; i < raw.length; i += 2) [raw[i], raw[i + 1]] = [raw[i + 1], raw[i]];
    }
    return raw;
  }
  if (!el.encapsulatedPixelData || !el.fragments?.length) throw new Error(`DICOM: transfer syntax ${ts} needs encapsulated Pixel Data, the file has none`);
  let data: Uint8Array;
  try {
    const frames = ds.intString('x00280008') ?? 1;
    if (el.basicOffsetTable?.length) data = dicomParser.readEncapsulatedImageFrame(ds, el, frame);
    else if (el.fragments.length === frames) data = dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, frame, 1);
    else if (frames === 1) data = dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, 0, el.fragments.length);
    else data = dicomParser.readEncapsulatedImageFrame(ds, el, frame, dicomParser.createJPEGBasicOffsetTable(ds, el));
  } catch (e) {
    throw new Error(`DICOM: cannot read frame ${frame} of the encapsulated Pixel Data (${e instanceof Error ? e.message : String(e)})`);
  }
  if (ts !== RLE) return data;
  return m.scratch((a) => {
    const src = a.put(data, 'DICOM RLE frame');
    const dst = a.alloc(frameSize, 'DICOM RLE pixels');
    const status = m.x.rle_decode(src, data.length, dst, pixels, bytesPerSample, samples);
    if (status < 0) throw new Error(`DICOM: RLE frame ${frame} is corrupt: ${RLE_ERRORS[status]}`);
    return m.bytes(dst, frameSize).slice();
  });
}

export function decodeDicom(bytes: Uint8Array, m: ImageModule, options: DicomOptions = {}): DecodedImage {
  const ds = parse(bytes);
  const ts = ds.string('x00020010') ?? '1.2.840.10008.1.2';
  if (!(ts in NATIVE) && ts !== RLE && !JPEG_BASELINE.includes(ts)) {
    const name = KNOWN_UNSUPPORTED[ts] ? `${KNOWN_UNSUPPORTED[ts]} (${ts})` : ts;
    throw new Error(`DICOM: transfer syntax ${name} is not supported; supported: native little/big endian, deflated, RLE Lossless, JPEG Baseline. Convert with e.g. \`gdcmconv --raw\` or \`dcmdjpeg\``);
  }
  const rows = ds.uint16('x00280010') ?? 0;
  const cols = ds.uint16('x00280011') ?? 0;
  checkSize('DICOM', cols, rows);
  const samples = ds.uint16('x00280002') ?? 1;
  const photometric = (ds.string('x00280004') ?? 'MONOCHROME2').trim();
  const bitsAllocated = ds.uint16('x00280100') ?? 0;
  const bitsStored = ds.uint16('x00280101') ?? bitsAllocated;
  const highBit = ds.uint16('x00280102') ?? bitsStored - 1;
  const signed = (ds.uint16('x00280103') ?? 0) === 1;
  const frames = ds.intString('x00280008') ?? 1;
  const frame = options.frame ?? 0;
  if (!Number.isInteger(frame) || frame < 0 || frame >= frames) throw new Error(`DICOM: frame ${frame} does not exist (the object has ${frames} frame${frames === 1 ? '' : 's'})`);
  const grey = photometric === 'MONOCHROME1' || photometric === 'MONOCHROME2';
  const colour = photometric === 'RGB' || (photometric.startsWith('YBR') && JPEG_BASELINE.includes(ts));
  if (!grey && !colour) throw new Error(`DICOM: Photometric Interpretation ${photometric} is not supported (MONOCHROME1/2, RGB, YBR in JPEG)`);
  if (grey ? samples !== 1 : samples !== 3) throw new Error(`DICOM: ${photometric} with Samples per Pixel ${samples}`);
  if (bitsAllocated !== 8 && bitsAllocated !== 16) throw new Error(`DICOM: Bits Allocated ${bitsAllocated} is not supported (8 or 16)`);
  if (!colour && (bitsStored < 1 || bitsStored > bitsAllocated || highBit < bitsStored - 1 || highBit >= bitsAllocated)) {
    throw new Error(`DICOM: Bits Stored ${bitsStored} / High Bit ${highBit} do not fit Bits Allocated ${bitsAllocated}`);
  }
  if (colour && bitsAllocated !== 8) throw new Error(`DICOM: colour images must have 8 bits per sample, got ${bitsAllocated}`);
  const pixels = rows * cols;
  const bytesPerSample = bitsAllocated / 8;
  const frameSize = pixels * samples * bytesPerSample;

  if (JPEG_BASELINE.includes(ts)) {
    const img = decodeJpeg(frameBytes(ds, ts, frame, frameSize, bytesPerSample, samples, pixels, m), m);
    if (img.width !== cols || img.height !== rows || img.channels !== samples) {
      throw new Error(`DICOM: the JPEG frame is ${img.width}×${img.height}×${img.channels}, the header says ${cols}×${rows}×${samples}`);
    }
    return colour ? img : greyToU8(img.data, 1, ds, options, { bitsStored: 8, highBit: 7, signed: false, photometric, pixels, m });
  }
  const raw = frameBytes(ds, ts, frame, frameSize, bytesPerSample, samples, pixels, m);
  if (colour) {
    const planar = ts !== RLE && (ds.uint16('x00280006') ?? 0) === 1; // RLE frames come back interleaved
    if (!planar) return { width: cols, height: rows, channels: 3, data: raw };
    const data = new Uint8Array(frameSize);
    for (let i = 0; i < pixels; i++) for (let c = 0; c < 3; c++) data[3 * i + c] = raw[c * pixels + i];
    return { width: cols, height: rows, channels: 3, data };
  }
  return greyToU8(raw, bytesPerSample, ds, options, { bitsStored, highBit, signed, photometric, pixels, m });
}

function greyToU8(raw: Uint8Array, bytesPerSample: number, ds: DataSet, options: DicomOptions,
  p: { bitsStored: number; highBit: number; signed: boolean; photometric: string; pixels: number; m: ImageModule }): DecodedImage {
  const slope = ds.floatString('x00281053') ?? 1;
  const intercept = ds.floatString('x00281052') ?? 0;
  const win = windowOf(ds, options.window);
  let fn: number = VOI_CODES.MINMAX;
  if (win) fn = VOI_CODES[win.function ?? 'LINEAR'];
  else if (bytesPerSample === 1 && !p.signed && slope === 1 && intercept === 0) fn = VOI_CODES.IDENTITY;
  const rows = ds.uint16('x00280010')!, cols = ds.uint16('x00280011')!;
  const data = p.m.scratch((a) => {
    const src = a.put(raw, 'DICOM frame');
    const out = a.alloc(p.pixels, 'DICOM 8-bit frame');
    p.m.x.grey_to_u8(src, p.pixels, bytesPerSample, p.bitsStored, p.highBit, p.signed ? 1 : 0, slope, intercept, fn,
      win?.center ?? 0, win?.width ?? 1, p.photometric === 'MONOCHROME1' ? 1 : 0, out);
    return p.m.bytes(out, p.pixels).slice();
  });
  return { width: cols, height: rows, channels: 1, data };
}
