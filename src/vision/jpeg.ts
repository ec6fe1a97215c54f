// JPEG (ITU T.81) baseline, extended-sequential and progressive Huffman, 8-bit, 1 or 3 components,
// any integral sampling factors, restart markers. Markers are parsed here; entropy decoding, the
// IDCT, upsampling and colour conversion run in assembly/image (jpeg_entropy.ts, jpeg_output.ts),
// matching libjpeg-turbo — and so PIL's Image.open — exactly. Output: L8 or RGB8.
import { checkSize, type DecodedImage } from './image.js';
import type { Arena, ImageModule } from './wasm.js';

// natural (row-major) index of zigzag position k: DQT tables are stored in zigzag order
const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35,
  42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

const SOF_NAMES: Record<number, string> = {
  0xc3: 'lossless', 0xc5: 'differential sequential', 0xc6: 'differential progressive', 0xc7: 'differential lossless',
  0xc9: 'arithmetic-coded sequential', 0xca: 'arithmetic-coded progressive', 0xcb: 'arithmetic-coded lossless',
  0xcd: 'arithmetic-coded differential sequential', 0xce: 'arithmetic-coded differential progressive',
  0xcf: 'arithmetic-coded differential lossless',
};

// status codes of jpeg_decode_scan (assembly/image/jpeg_entropy.ts)
const SCAN_ERRORS: Record<number, string> = {
  [-1]: 'corrupt entropy-coded data (a Huffman code not in its table)',
  [-2]: 'entropy-coded data ends early (file truncated or corrupt)',
  [-3]: 'a restart marker is missing (file corrupt)',
};

interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
  perLine: number;
  rows: number;
  coefs: number; // wasm pointer, i16 × 64 per block
  quant: number; // wasm pointer, u16 × 64 natural order, latched at the component's first scan
}

export function isJpeg(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

export function decodeJpeg(bytes: Uint8Array, m: ImageModule): DecodedImage {
  if (!(bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xd8)) throw new Error('JPEG: missing SOI marker');
  return m.scratch((arena) => new JpegReader(bytes, m, arena).read());
}

class JpegReader {
  private readonly quant: (Uint16Array | undefined)[] = [];
  private readonly dc: number[] = [];
  private readonly ac: number[] = [];
  private comps: Component[] = [];
  private width = 0;
  private height = 0;
  private hmax = 1;
  private vmax = 1;
  private progressive = false;
  private restart = 0;
  private jfif = false;
  private adobe = -1;
  private scans = 0;
  private data = 0;
  private readonly tableBytes: number;

  constructor(
    private readonly b: Uint8Array,
    private readonly m: ImageModule,
    private readonly arena: Arena,
  ) {
    this.tableBytes = m.x.JPEG_HUFFMAN_TABLE_BYTES.value as number;
  }

  private u16(at: number): number {
    if (at + 2 > this.b.length) throw new Error('JPEG: truncated inside a marker segment');
    return (this.b[at] << 8) | this.b[at + 1];
  }

  read(): DecodedImage {
    // the whole file goes into wasm memory once; scans are decoded in place
    this.data = this.arena.put(this.b, 'JPEG data');
    let at = 2;
    for (;;) {
      if (at >= this.b.length) throw new Error('JPEG: truncated (no EOI marker)');
      if (this.b[at] !== 0xff) throw new Error(`JPEG: expected a marker at byte ${at}, found 0x${this.b[at].toString(16)} (file corrupt)`);
      while (at < this.b.length && this.b[at] === 0xff) at++; // fill bytes
      const marker = this.b[at++];
      if (marker === 0xd9) break;
      if (marker >= 0xd0 && marker <= 0xd7) continue; // stray RSTn between scans
      const len = this.u16(at);
      if (len < 2 || at + len > this.b.length) throw new Error(`JPEG: truncated (segment 0x${marker.toString(16)} needs ${len} bytes at byte ${at})`);
      const seg = this.b.subarray(at + 2, at + len);
      at += len;
      if (marker === 0xc0 || marker === 0xc1 || marker === 0xc2) this.frame(seg, marker === 0xc2);
      else if (marker in SOF_NAMES) throw new Error(`JPEG: ${SOF_NAMES[marker]} JPEG (SOF${marker - 0xc0}) is not supported; re-save it as baseline or progressive Huffman`);
      else if (marker === 0xc4) this.huffman(seg);
      else if (marker === 0xdb) this.quantTables(seg);
      else if (marker === 0xdd) this.restart = seg.length >= 2 ? (seg[0] << 8) | seg[1] : 0;
      else if (marker === 0xda) at = this.scan(seg, at);
      else if (marker === 0xdc) throw new Error('JPEG: DNL marker (height defined after the scan) is not supported');
      else if (marker === 0xe0 && seg.length >= 5 && String.fromCharCode(...seg.subarray(0, 5)) === 'JFIF\0') this.jfif = true;
      else if (marker === 0xee && seg.length >= 12 && String.fromCharCode(...seg.subarray(0, 5)) === 'Adobe') this.adobe = seg[11];
    }
    if (!this.comps.length) throw new Error('JPEG: no frame header (SOF)');
    if (!this.scans) throw new Error('JPEG: no scan (no image data)');
    return this.output();
  }

  private frame(s: Uint8Array, progressive: boolean): void {
    if (this.comps.length) throw new Error('JPEG: more than one frame header');
    if (s.length < 6) throw new Error('JPEG: SOF segment too short');
    if (s[0] !== 8) throw new Error(`JPEG: ${s[0]}-bit samples are not supported (8-bit only)`);
    this.height = (s[1] << 8) | s[2];
    this.width = (s[3] << 8) | s[4];
    const n = s[5];
    if (this.height === 0) throw new Error('JPEG: zero height (height defined by a DNL marker is not supported)');
    checkSize('JPEG', this.width, this.height);
    if (n === 4) throw new Error('JPEG: 4-component (CMYK/YCCK) JPEG is not supported; convert it to RGB');
    if (n !== 1 && n !== 3) throw new Error(`JPEG: ${n} components are not supported (1 or 3)`);
    if (s.length < 6 + 3 * n) throw new Error('JPEG: SOF segment too short for its components');
    this.progressive = progressive;
    for (let i = 0; i < n; i++) {
      const h = s[7 + 3 * i] >> 4;
      const v = s[7 + 3 * i] & 15;
      if (h < 1 || h > 4 || v < 1 || v > 4) throw new Error(`JPEG: component ${i} has sampling factors ${h}×${v} (1..4 allowed)`);
      this.comps.push({ id: s[6 + 3 * i], h, v, tq: s[8 + 3 * i] & 3, perLine: 0, rows: 0, coefs: 0, quant: 0 });
    }
    this.hmax = Math.max(...this.comps.map((c) => c.h));
    this.vmax = Math.max(...this.comps.map((c) => c.v));
    const mcusx = Math.ceil(this.width / (8 * this.hmax));
    const mcusy = Math.ceil(this.height / (8 * this.vmax));
    for (const c of this.comps) {
      if (this.hmax % c.h || this.vmax % c.v) throw new Error(`JPEG: sampling ${c.h}×${c.v} does not divide ${this.hmax}×${this.vmax} (fractional upsampling is not supported)`);
      c.perLine = mcusx * c.h;
      c.rows = mcusy * c.v;
      const bytes = c.perLine * c.rows * 128;
      c.coefs = this.arena.alloc(bytes, 'JPEG coefficients');
      this.m.bytes(c.coefs, bytes).fill(0);
    }
  }

  private huffman(s: Uint8Array): void {
    let i = 0;
    while (i < s.length) {
      if (i + 17 > s.length) throw new Error('JPEG: DHT segment too short');
      const cls = s[i] >> 4;
      const id = s[i] & 15;
      if (cls > 1 || id > 3) throw new Error(`JPEG: DHT table class ${cls} id ${id} is invalid`);
      const counts = s.subarray(i + 1, i + 17);
      const total = counts.reduce((a, c) => a + c, 0);
      if (total > 256 || i + 17 + total > s.length) throw new Error('JPEG: DHT segment is inconsistent (symbol count)');
      const list = cls ? this.ac : this.dc;
      list[id] ??= this.arena.alloc(this.tableBytes, 'JPEG Huffman table');
      const status = this.m.scratch((a) =>
        this.m.x.jpeg_build_huffman(list[id], a.put(counts, 'DHT counts'), a.put(s.subarray(i + 17, i + 17 + total), 'DHT symbols')),
      );
      if (status < 0) throw new Error(`JPEG: Huffman table ${cls ? 'AC' : 'DC'}${id} is not a valid prefix code`);
      i += 17 + total;
    }
  }

  private quantTables(s: Uint8Array): void {
    let i = 0;
    while (i < s.length) {
      const precision = s[i] >> 4;
      const id = s[i] & 15;
      const size = precision ? 128 : 64;
      if (id > 3 || precision > 1 || i + 1 + size > s.length) throw new Error('JPEG: DQT segment is invalid');
      const q = new Uint16Array(64);
      for (let k = 0; k < 64; k++) q[ZIGZAG[k]] = precision ? (s[i + 1 + 2 * k] << 8) | s[i + 2 + 2 * k] : s[i + 1 + k];
      this.quant[id] = q;
      i += 1 + size;
    }
  }

  /** Reads an SOS header, decodes its entropy-coded data; returns the offset of the next marker. */
  private scan(s: Uint8Array, dataStart: number): number {
    if (!this.comps.length) throw new Error('JPEG: scan before the frame header');
    const n = s[0];
    if (n < 1 || n > 4 || s.length < 4 + 2 * n) throw new Error('JPEG: SOS segment is invalid');
    const ss = s[1 + 2 * n], se = s[2 + 2 * n], ah = s[3 + 2 * n] >> 4, al = s[3 + 2 * n] & 15;
    if (this.progressive) {
      const dcScan = ss === 0;
      if ((dcScan && se !== 0) || (!dcScan && (se < ss || se > 63 || n !== 1)) || al > 13) {
        throw new Error(`JPEG: invalid progressive scan parameters Ss=${ss} Se=${se} Ah=${ah} Al=${al} for ${n} component(s)`);
      }
    }
    const fields = new Int32Array(9 + 6 * n);
    const scanComps: Component[] = [];
    for (let k = 0; k < n; k++) {
      const c = this.comps.find((x) => x.id === s[1 + 2 * k]);
      if (!c) throw new Error(`JPEG: scan refers to component ${s[1 + 2 * k]}, which the frame does not define`);
      const td = s[2 + 2 * k] >> 4, ta = s[2 + 2 * k] & 15;
      const needDc = !this.progressive || (ss === 0 && ah === 0);
      const needAc = !this.progressive || ss > 0;
      if ((needDc && this.dc[td] === undefined) || (needAc && this.ac[ta] === undefined)) {
        throw new Error(`JPEG: scan uses Huffman table DC${td}/AC${ta}, which no DHT defined`);
      }
      if (!c.quant) {
        const q = this.quant[c.tq];
        if (!q) throw new Error(`JPEG: component ${c.id} uses quantization table ${c.tq}, which no DQT defined`);
        c.quant = this.arena.put(q, 'JPEG quantization table');
      }
      scanComps.push(c);
      const single = n === 1;
      fields.set([single ? 1 : c.h, single ? 1 : c.v, c.coefs, c.perLine, this.dc[td] ?? 0, this.ac[ta] ?? 0], 9 + 6 * k);
    }
    let mcusx = Math.ceil(this.width / (8 * this.hmax));
    let mcusy = Math.ceil(this.height / (8 * this.vmax));
    if (n === 1) {
      // non-interleaved: the component's own blocks, ceil(component size / 8)
      const c = scanComps[0];
      mcusx = Math.ceil(Math.ceil((this.width * c.h) / this.hmax) / 8);
      mcusy = Math.ceil(Math.ceil((this.height * c.v) / this.vmax) / 8);
    }
    fields.set([n, ss, se, ah, al, this.progressive ? 1 : 0, this.restart, mcusx, mcusy], 0);
    const next = this.m.scratch((a) => this.m.x.jpeg_decode_scan(this.data, this.b.length, dataStart, a.put(fields, 'JPEG scan')));
    if (next < 0) throw new Error(`JPEG: ${SCAN_ERRORS[next] ?? `scan error ${next}`}`);
    this.scans++;
    return next;
  }

  /** 0 grey, 1 YCbCr, 2 RGB — libjpeg's default_decompress_parms rules. */
  private transform(): number {
    if (this.comps.length === 1) return 0;
    if (this.jfif) return 1;
    if (this.adobe >= 0) return this.adobe === 0 ? 2 : 1;
    const ids = this.comps.map((c) => c.id).join(',');
    return ids === '82,71,66' ? 2 : 1;
  }

  private output(): DecodedImage {
    for (const c of this.comps) {
      if (!c.quant) throw new Error(`JPEG: component ${c.id} never appears in a scan`);
    }
    const f = new Int32Array(6 + 6 * this.comps.length);
    f.set([this.width, this.height, this.comps.length, this.hmax, this.vmax, this.transform()]);
    this.comps.forEach((c, i) => f.set([c.h, c.v, c.coefs, c.perLine, c.rows, c.quant], 6 + 6 * i));
    const channels = this.comps.length === 1 ? 1 : 3;
    const size = this.width * this.height * channels;
    const out = this.arena.alloc(size, 'JPEG pixels');
    this.m.x.jpeg_output(this.arena.put(f, 'JPEG frame'), out);
    return { width: this.width, height: this.height, channels, data: this.m.bytes(out, size).slice() };
  }
}
