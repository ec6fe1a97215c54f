// JPEG entropy decoding (ITU T.81 Annex F and G): Huffman tables, the bit reader with byte
// stuffing, markers and restart intervals, and the four scan kinds — sequential, progressive
// DC first/refine, AC first/refine — following libjpeg-turbo's jdhuff.c / jdphuff.c so that
// coefficients come out exactly as PIL's decoder sees them. Scans are described by the TS side
// (src/vision/jpeg.ts) in a small i32 struct; coefficients (i16, natural order) stay in buffers
// it allocates, and src/vision calls jpeg_output (jpeg_output.ts) once every scan is read.

const JPEG_ERR_HUFFMAN: i32 = -1; // a code not in the table
const JPEG_ERR_OVERRUN: i32 = -2; // the scan needs more bits than its segment holds
const JPEG_ERR_RESTART: i32 = -3; // the expected RSTn marker is missing
const JPEG_ERR_TABLE: i32 = -4; // a DHT table that is not a valid prefix code

// Derived table layout (bytes): lookup u16[512] | maxcode i32[18] | valoffset i32[18] | values u8[256]
const LOOK_BITS = 9;
const T_MAXCODE: usize = 1024;
const T_VALOFF: usize = 1024 + 72;
const T_VALUES: usize = 1024 + 144;
export const JPEG_HUFFMAN_TABLE_BYTES: i32 = 1024 + 144 + 256;

// Zigzag index → natural (row-major) index, padded with 63 so corrupt runs stay inside the block.
const NATURAL: usize = memory.data<u8>([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
  35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55,
  62, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
]);

/** Builds a derived table from a DHT's 16 code-length counts and its symbols (jpeg_make_d_derived_tbl). */
export function jpeg_build_huffman(table: usize, counts: usize, symbols: usize): i32 {
  memory.fill(table, 0, <usize>JPEG_HUFFMAN_TABLE_BYTES);
  let total = 0;
  for (let l = 0; l < 16; l++) total += load<u8>(counts + l);
  if (total > 256) return JPEG_ERR_TABLE;
  memory.copy(table + T_VALUES, symbols, <usize>total);
  let code = 0;
  let p = 0;
  for (let l = 1; l <= 16; l++) {
    const n = <i32>load<u8>(counts + l - 1);
    if (n) {
      store<i32>(table + T_VALOFF + (<usize>l << 2), p - code);
      for (let i = 0; i < n; i++, p++, code++) {
        if (l <= LOOK_BITS) {
          const base = code << (LOOK_BITS - l);
          for (let j = 0; j < 1 << (LOOK_BITS - l); j++) {
            store<u16>(table + (<usize>(base + j) << 1), <u16>((l << 8) | load<u8>(symbols + p)));
          }
        }
      }
      if (code >= 1 << l) return JPEG_ERR_TABLE; // the all-ones code is reserved
      store<i32>(table + T_MAXCODE + (<usize>l << 2), code - 1);
    } else {
      store<i32>(table + T_MAXCODE + (<usize>l << 2), -1);
    }
    code <<= 1;
  }
  store<i32>(table + T_MAXCODE + (17 << 2), 0x7fffffff);
  return 0;
}

// ---- bit reader: MSB-first bits in `acc`, `cnt` of them valid; after a marker (or the end of the
// data) zero bits are fed in, counted in `fake`, and consuming any of them is an overrun.
let base: usize = 0;
let end: usize = 0;
let pos: usize = 0;
let acc: u32 = 0;
let cnt: i32 = 0;
let fake: i32 = 0;
let atMarker = false;

function fill(): void {
  while (cnt <= 24) {
    let b: u32 = 0;
    if (!atMarker) {
      if (pos >= end) atMarker = true;
      else {
        b = load<u8>(pos);
        if (b == 0xff) {
          const next = pos + 1 < end ? load<u8>(pos + 1) : 0xd9;
          if (next == 0) pos += 2;
          else atMarker = true;
        } else pos++;
      }
    }
    if (atMarker) {
      b = 0;
      fake += 8;
    }
    acc |= b << (24 - cnt);
    cnt += 8;
  }
}

@inline function consume(n: i32): void {
  acc <<= n;
  cnt -= n;
}

function bits(n: i32): i32 {
  if (n == 0) return 0;
  if (cnt < n) fill();
  const v = <i32>(acc >>> (32 - n));
  consume(n);
  return v;
}

@inline function extend(v: i32, s: i32): i32 {
  return v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
}

/** Next Huffman symbol, or -1 for a code not in the table. */
function symbol(table: usize): i32 {
  if (cnt < 16) fill();
  const e = <i32>load<u16>(table + (<usize>(acc >>> (32 - LOOK_BITS)) << 1));
  if (e) {
    consume(e >> 8);
    return e & 0xff;
  }
  let l = LOOK_BITS + 1;
  let code = <i32>(acc >>> (32 - l));
  while (l <= 16 && code > load<i32>(table + T_MAXCODE + (<usize>l << 2))) {
    l++;
    code = <i32>(acc >>> (32 - l));
  }
  if (l > 16) return -1;
  consume(l);
  return load<u8>(table + T_VALUES + <usize>(code + load<i32>(table + T_VALOFF + (<usize>l << 2))));
}

// ---- scan description written by src/vision/jpeg.ts (i32 fields)
// 0 ncomp, 1 Ss, 2 Se, 3 Ah, 4 Al, 5 progressive, 6 restart interval, 7 MCUs across, 8 MCUs down,
// then per scan component (6 fields from 9): h, v, coefficient buffer, blocks per line, DC table, AC table.
// A one-component scan is non-interleaved: h = v = 1 and the MCU counts are its block counts.
const S_COMP = 9;
const C_FIELDS = 6;
let eobrun = 0;
const pred: usize = memory.data(16); // DC predictors, i32 × 4

@inline function field(scan: usize, i: i32): i32 {
  return load<i32>(scan + (<usize>i << 2));
}

function decodeBlock(blk: usize, ci: i32, dc: usize, ac: usize, ss: i32, se: i32, ah: i32, al: i32, progressive: bool): i32 {
  if (!progressive) {
    const s = symbol(dc);
    if (s < 0) return JPEG_ERR_HUFFMAN;
    const pp = pred + (<usize>ci << 2);
    const d = s ? extend(bits(s), s) : 0;
    store<i32>(pp, load<i32>(pp) + d);
    store<i16>(blk, <i16>load<i32>(pp));
    for (let k = 1; k < 64; k++) {
      const rs = symbol(ac);
      if (rs < 0) return JPEG_ERR_HUFFMAN;
      const r = rs >> 4;
      const sz = rs & 15;
      if (sz) {
        k += r;
        store<i16>(blk + (<usize>load<u8>(NATURAL + k) << 1), <i16>extend(bits(sz), sz));
      } else {
        if (r != 15) break;
        k += 15;
      }
    }
    return 0;
  }
  if (ss == 0) {
    if (ah == 0) {
      const s = symbol(dc);
      if (s < 0) return JPEG_ERR_HUFFMAN;
      const pp = pred + (<usize>ci << 2);
      const d = s ? extend(bits(s), s) : 0;
      store<i32>(pp, load<i32>(pp) + d);
      store<i16>(blk, <i16>(load<i32>(pp) << al));
    } else if (bits(1)) {
      store<i16>(blk, <i16>(<i32>load<i16>(blk) | (1 << al)));
    }
    return 0;
  }
  if (ah == 0) {
    if (eobrun > 0) {
      eobrun--;
      return 0;
    }
    for (let k = ss; k <= se; k++) {
      const rs = symbol(ac);
      if (rs < 0) return JPEG_ERR_HUFFMAN;
      const r = rs >> 4;
      const sz = rs & 15;
      if (sz) {
        k += r;
        store<i16>(blk + (<usize>load<u8>(NATURAL + k) << 1), <i16>(extend(bits(sz), sz) << al));
      } else if (r == 15) {
        k += 15;
      } else {
        eobrun = 1 << r;
        if (r) eobrun += bits(r);
        eobrun--;
        break;
      }
    }
    return 0;
  }
  // AC refinement: correction bits for already-nonzero coefficients, new coefficients of ±1<<Al
  const p1 = 1 << al;
  const m1 = -1 << al;
  let k = ss;
  if (eobrun == 0) {
    for (; k <= se; k++) {
      const rs = symbol(ac);
      if (rs < 0) return JPEG_ERR_HUFFMAN;
      let r = rs >> 4;
      let s = rs & 15;
      if (s) {
        s = bits(1) ? p1 : m1;
      } else if (r != 15) {
        eobrun = 1 << r;
        if (r) eobrun += bits(r);
        break;
      }
      do {
        const c = blk + (<usize>load<u8>(NATURAL + k) << 1);
        const v = <i32>load<i16>(c);
        if (v != 0) {
          if (bits(1) && (v & p1) == 0) store<i16>(c, <i16>(v >= 0 ? v + p1 : v + m1));
        } else {
          if (--r < 0) break;
        }
        k++;
      } while (k <= se);
      if (s) store<i16>(blk + (<usize>load<u8>(NATURAL + k) << 1), <i16>s);
    }
  }
  if (eobrun > 0) {
    for (; k <= se; k++) {
      const c = blk + (<usize>load<u8>(NATURAL + k) << 1);
      const v = <i32>load<i16>(c);
      if (v != 0 && bits(1) && (v & p1) == 0) store<i16>(c, <i16>(v >= 0 ? v + p1 : v + m1));
    }
    eobrun--;
  }
  return 0;
}

/** Consumes an RSTn marker (n = expected & 7) after byte-aligning; false when it is not there. */
function restart(expected: i32): bool {
  acc = 0;
  cnt = 0;
  fake = 0;
  atMarker = false;
  while (pos + 1 < end && load<u8>(pos) == 0xff && load<u8>(pos + 1) == 0xff) pos++; // fill bytes
  if (pos + 1 >= end || load<u8>(pos) != 0xff || load<u8>(pos + 1) != <u8>(0xd0 + (expected & 7))) return false;
  pos += 2;
  return true;
}

/**
 * Decodes one scan whose entropy-coded data starts at data + start. Returns the offset of the
 * marker that follows the scan (or len), or a negative JPEG_ERR_* code.
 */
export function jpeg_decode_scan(data: usize, len: i32, start: i32, scan: usize): i32 {
  base = data;
  end = data + <usize>len;
  pos = data + <usize>start;
  acc = 0;
  cnt = 0;
  fake = 0;
  atMarker = false;
  eobrun = 0;
  memory.fill(pred, 0, 16);
  const ncomp = field(scan, 0);
  const ss = field(scan, 1), se = field(scan, 2), ah = field(scan, 3), al = field(scan, 4);
  const progressive = field(scan, 5) != 0;
  const interval = field(scan, 6);
  const mcusx = field(scan, 7), mcusy = field(scan, 8);
  const total = mcusx * mcusy;
  let sinceRestart = 0;
  let restarts = 0;
  for (let m = 0; m < total; m++) {
    if (interval && sinceRestart == interval) {
      if (!restart(restarts)) return JPEG_ERR_RESTART;
      restarts++;
      sinceRestart = 0;
      eobrun = 0;
      memory.fill(pred, 0, 16);
    }
    const my = m / mcusx;
    const mx = m - my * mcusx;
    for (let c = 0; c < ncomp; c++) {
      const f = S_COMP + c * C_FIELDS;
      const h = field(scan, f), v = field(scan, f + 1);
      const coefs = <usize>field(scan, f + 2);
      const perLine = field(scan, f + 3);
      const dc = <usize>field(scan, f + 4), ac = <usize>field(scan, f + 5);
      for (let by = 0; by < v; by++) {
        for (let bx = 0; bx < h; bx++) {
          const blk = coefs + (<usize>((my * v + by) * perLine + mx * h + bx) << 7);
          const st = decodeBlock(blk, c, dc, ac, ss, se, ah, al, progressive);
          if (st < 0) return st;
          if (cnt < fake) return JPEG_ERR_OVERRUN;
        }
      }
    }
    sinceRestart++;
  }
  // the scan ends at the next marker; skip the padding bits still buffered
  if (!atMarker) {
    while (pos + 1 < end && !(load<u8>(pos) == 0xff && load<u8>(pos + 1) != 0)) pos++;
    if (pos + 1 >= end) pos = end;
  }
  return <i32>(pos - base);
}
