// PNG (ISO/IEC 15948): chunk parsing with CRC checks, zlib inflate (fflate) straight into wasm
// memory, then unfiltering and expansion in assembly/image/png.ts. Every colour type and bit
// depth, PLTE + tRNS, Adam7. Output: L8, RGB8 or RGBA8 (tRNS or an alpha channel → RGBA).
import { unzlibSync } from 'fflate';
import { checkSize, type DecodedImage } from './image.js';
import type { ImageModule } from './wasm.js';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

export function isPng(b: Uint8Array): boolean {
  return b.length >= 8 && SIGNATURE.every((v, i) => b[i] === v);
}

let crcTable: Uint32Array | undefined;
function crc32(b: Uint8Array, start: number, end: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = crcTable[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

interface Header {
  width: number;
  height: number;
  depth: number;
  ctype: number;
  interlace: number;
}

function parseHeader(d: DataView, at: number, len: number): Header {
  if (len !== 13) throw new Error(`PNG: IHDR is ${len} bytes, expected 13`);
  const h = { width: d.getUint32(at), height: d.getUint32(at + 4), depth: d.getUint8(at + 8), ctype: d.getUint8(at + 9), interlace: d.getUint8(at + 12) };
  if (!(h.ctype in DEPTHS)) throw new Error(`PNG: colour type ${h.ctype} is not defined (0, 2, 3, 4 or 6)`);
  if (!DEPTHS[h.ctype].includes(h.depth)) {
    throw new Error(`PNG: bit depth ${h.depth} is not allowed for colour type ${h.ctype} (allowed: ${DEPTHS[h.ctype].join(', ')})`);
  }
  if (d.getUint8(at + 10) !== 0 || d.getUint8(at + 11) !== 0) throw new Error('PNG: unknown compression or filter method in IHDR');
  if (h.interlace > 1) throw new Error(`PNG: unknown interlace method ${h.interlace}`);
  checkSize('PNG', h.width, h.height);
  return h;
}

/** Bytes of the filtered stream: one filter byte plus the packed samples per row, per pass. */
function streamBytes(h: Header): number {
  const bits = SAMPLES[h.ctype] * h.depth;
  const passes = h.interlace ? ADAM7 : [[0, 0, 1, 1]];
  let n = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const pw = Math.ceil((h.width - x0) / dx);
    const ph = Math.ceil((h.height - y0) / dy);
    if (pw > 0 && ph > 0) n += ph * (1 + Math.ceil((pw * bits) / 8));
  }
  return n;
}

export function decodePng(bytes: Uint8Array, m: ImageModule): DecodedImage {
  if (!isPng(bytes)) throw new Error('PNG: missing signature');
  const d = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: Header | undefined;
  let plte: Uint8Array | undefined;
  let trns: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  let at = 8;
  for (;;) {
    if (at === bytes.length && idat.length) break; // no IEND: accept what is complete
    if (at + 12 > bytes.length) throw new Error(`PNG: truncated (file ends inside a chunk header at byte ${at})`);
    const len = d.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
    const dataAt = at + 8;
    if (len > bytes.length - dataAt - 4) throw new Error(`PNG: truncated (chunk ${type} needs ${len} bytes at byte ${dataAt})`);
    if (crc32(bytes, at + 4, dataAt + len) !== d.getUint32(dataAt + len)) throw new Error(`PNG: chunk ${type} at byte ${at} fails its CRC (file corrupt)`);
    const body = bytes.subarray(dataAt, dataAt + len);
    const critical = (bytes[at + 4] & 0x20) === 0; // bit 5 of the first type letter: ancillary
    at = dataAt + len + 4;
    if (!header && type !== 'IHDR') throw new Error(`PNG: first chunk is ${type}, expected IHDR`);
    if (type === 'IHDR') header = parseHeader(d, dataAt, len);
    else if (type === 'PLTE') plte = body;
    else if (type === 'tRNS') trns = body;
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    else if (critical) throw new Error(`PNG: unknown critical chunk ${type}`);
  }
  const h = header!;
  if (!idat.length) throw new Error('PNG: no IDAT chunk (no image data)');
  if (h.ctype === 3 && !plte) throw new Error('PNG: palette image without a PLTE chunk');
  const alpha = h.ctype === 4 || h.ctype === 6 || trns !== undefined;
  const channels = alpha ? 4 : h.ctype === 0 ? 1 : 3;
  const keys = [-1, -1, -1];
  if (trns && h.ctype === 0) {
    if (trns.length < 2) throw new Error('PNG: tRNS for a grey image must hold 2 bytes');
    keys[0] = (trns[0] << 8) | trns[1];
  } else if (trns && h.ctype === 2) {
    if (trns.length < 6) throw new Error('PNG: tRNS for an RGB image must hold 6 bytes');
    for (let i = 0; i < 3; i++) keys[i] = (trns[2 * i] << 8) | trns[2 * i + 1];
  } else if (trns && (h.ctype === 4 || h.ctype === 6)) {
    throw new Error(`PNG: tRNS is not allowed with colour type ${h.ctype} (it already has alpha)`);
  }
  const compressed = idat.length === 1 ? idat[0] : concat(idat);
  const expected = streamBytes(h);
  return m.scratch((arena) => {
    const stream = arena.alloc(expected, 'PNG scanlines');
    let got: number;
    try {
      got = unzlibSync(compressed, { out: m.bytes(stream, expected) }).length;
    } catch (e) {
      throw new Error(`PNG: image data does not inflate (${(e as Error).message}); the file is corrupt`);
    }
    let palette = 0;
    if (h.ctype === 3) {
      const table = new Uint8Array(1024); // missing entries decode as opaque black
      for (let i = 0; i < 256; i++) {
        if (3 * i + 2 < plte!.length) table.set(plte!.subarray(3 * i, 3 * i + 3), 4 * i);
        table[4 * i + 3] = trns && i < trns.length ? trns[i] : 255;
      }
      palette = arena.put(table, 'PNG palette');
    }
    const size = h.width * h.height * channels;
    const out = arena.alloc(size, 'PNG pixels');
    const status = m.x.png_decode(stream, got, h.width, h.height, h.depth, h.ctype, h.interlace, palette, keys[0], keys[1], keys[2], out, channels);
    // status codes of png_decode (assembly/image/png.ts)
    if (status === -1) throw new Error(`PNG: image data is truncated (${got} of ${expected} bytes after inflate)`);
    if (status === -2) throw new Error('PNG: a scanline has an unknown filter type (file corrupt)');
    return { width: h.width, height: h.height, channels, data: m.bytes(out, size).slice() };
  });
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
