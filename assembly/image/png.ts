// PNG scanlines (PNG spec §7–§9): unfiltering and expansion to 8-bit L / RGB / RGBA,
// Adam7 passes included. src/vision/png.ts parses the chunks and inflates; this does the
// per-byte work. Output rules: 16-bit samples keep their high byte, 1/2/4-bit grey is
// scaled to 0..255 by bit replication (v * 255 / (2^d - 1)), palette entries and tRNS
// colour keys become RGB(A).

const PNG_ERR_SHORT: i32 = -1; // the inflated stream is shorter than the image needs
const PNG_ERR_FILTER: i32 = -2; // a scanline's filter type byte is not 0..4

// Adam7 pass origins and steps (x0, y0, dx, dy); pass 7 entries = one non-interlaced pass.
const ADAM7: usize = memory.data<i32>([
  0, 0, 8, 8, 4, 0, 8, 8, 0, 4, 4, 8, 2, 0, 4, 4, 0, 2, 2, 4, 1, 0, 2, 2, 0, 1, 1, 2, 0, 0, 1, 1,
]);

@inline function paeth(a: i32, b: i32, c: i32): i32 {
  const p = a + b - c;
  const pa = abs(p - a);
  const pb = abs(p - b);
  const pc = abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/** Unfilters one row in place; prev is the previous (already unfiltered) row of the pass, or zeros. */
function unfilter(ftype: i32, row: usize, prev: usize, n: i32, bpp: i32): bool {
  switch (ftype) {
    case 0:
      break;
    case 1:
      for (let i = bpp; i < n; i++) store<u8>(row + i, load<u8>(row + i) + load<u8>(row + i - bpp));
      break;
    case 2: {
      let i = 0;
      for (; i + 16 <= n; i += 16) v128.store(row + i, i8x16.add(v128.load(row + i), v128.load(prev + i)));
      for (; i < n; i++) store<u8>(row + i, load<u8>(row + i) + load<u8>(prev + i));
      break;
    }
    case 3:
      for (let i = 0; i < bpp; i++) store<u8>(row + i, load<u8>(row + i) + (load<u8>(prev + i) >> 1));
      for (let i = bpp; i < n; i++) {
        store<u8>(row + i, load<u8>(row + i) + ((<u32>load<u8>(row + i - bpp) + <u32>load<u8>(prev + i)) >> 1));
      }
      break;
    case 4:
      for (let i = 0; i < bpp; i++) store<u8>(row + i, load<u8>(row + i) + load<u8>(prev + i));
      for (let i = bpp; i < n; i++) {
        const p = paeth(load<u8>(row + i - bpp), load<u8>(prev + i), load<u8>(prev + i - bpp));
        store<u8>(row + i, load<u8>(row + i) + <u8>p);
      }
      break;
    default:
      return false;
  }
  return true;
}

/** Sample k of a row at `depth` bits (big-endian within bytes), unscaled. */
@inline function rawSample(row: usize, k: i32, depth: i32): i32 {
  if (depth == 8) return load<u8>(row + k);
  if (depth == 16) return (<i32>load<u8>(row + 2 * k) << 8) | load<u8>(row + 2 * k + 1);
  const bit = k * depth;
  return (load<u8>(row + (bit >> 3)) >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
}

/** The 8-bit value of a raw sample: high byte for 16-bit, bit replication below 8. */
@inline function to8(v: i32, depth: i32): u8 {
  if (depth == 8) return <u8>v;
  if (depth == 16) return <u8>(v >> 8);
  return <u8>((v * 255) / ((1 << depth) - 1));
}

/** Expands one unfiltered row of `w` pixels into `out` at pixel stride `step`. */
function expandRow(row: usize, w: i32, depth: i32, ctype: i32, palette: usize, keyR: i32, keyG: i32, keyB: i32,
  out: usize, step: i32, outCh: i32): void {
  const stepBytes = <usize>(step * outCh);
  let o = out;
  if (depth == 8 && step == 1 && ((ctype == 0 && outCh == 1) || (ctype == 2 && outCh == 3) || (ctype == 6 && outCh == 4))) {
    memory.copy(out, row, <usize>(w * outCh)); // already in the output layout
    return;
  }
  for (let i = 0; i < w; i++, o += stepBytes) {
    if (ctype == 0) {
      const v = rawSample(row, i, depth);
      const g = to8(v, depth);
      store<u8>(o, g);
      if (outCh == 4) {
        store<u8>(o + 1, g);
        store<u8>(o + 2, g);
        store<u8>(o + 3, v == keyR ? 0 : 255);
      }
    } else if (ctype == 2) {
      const r = rawSample(row, 3 * i, depth);
      const g = rawSample(row, 3 * i + 1, depth);
      const b = rawSample(row, 3 * i + 2, depth);
      store<u8>(o, to8(r, depth));
      store<u8>(o + 1, to8(g, depth));
      store<u8>(o + 2, to8(b, depth));
      if (outCh == 4) store<u8>(o + 3, r == keyR && g == keyG && b == keyB ? 0 : 255);
    } else if (ctype == 3) {
      const e = palette + (<usize>rawSample(row, i, depth) << 2);
      store<u8>(o, load<u8>(e));
      store<u8>(o + 1, load<u8>(e + 1));
      store<u8>(o + 2, load<u8>(e + 2));
      if (outCh == 4) store<u8>(o + 3, load<u8>(e + 3));
    } else if (ctype == 4) {
      const g = to8(rawSample(row, 2 * i, depth), depth);
      store<u8>(o, g);
      store<u8>(o + 1, g);
      store<u8>(o + 2, g);
      store<u8>(o + 3, to8(rawSample(row, 2 * i + 1, depth), depth));
    } else {
      for (let c = 0; c < 4; c++) store<u8>(o + c, to8(rawSample(row, 4 * i + c, depth), depth));
    }
  }
}

/**
 * Unfilters the inflated image stream `data` (modified in place) and writes the pixels to `out`
 * (width × height × outCh bytes). palette: 256 RGBA entries (ctype 3); key*: the tRNS colour key
 * as raw samples, or -1. Returns 0, or the number of bytes consumed was short / a filter was bad.
 */
export function png_decode(data: usize, len: i32, width: i32, height: i32, depth: i32, ctype: i32, interlace: i32,
  palette: usize, keyR: i32, keyG: i32, keyB: i32, out: usize, outCh: i32): i32 {
  const spp = ctype == 2 ? 3 : ctype == 4 ? 2 : ctype == 6 ? 4 : 1;
  const bitsPP = spp * depth;
  const bpp = max(1, bitsPP >> 3);
  const zeros = heap.alloc(<usize>(((width * bitsPP + 7) >> 3) + 16));
  memory.fill(zeros, 0, <usize>(((width * bitsPP + 7) >> 3) + 16));
  let pos = 0;
  let status = 0;
  const first = interlace ? 0 : 7;
  const last = interlace ? 6 : 7;
  for (let p = first; p <= last && status == 0; p++) {
    const t = ADAM7 + (<usize>p << 4);
    const x0 = load<i32>(t), y0 = load<i32>(t, 4), dx = load<i32>(t, 8), dy = load<i32>(t, 12);
    const pw = (width - x0 + dx - 1) / dx;
    const ph = (height - y0 + dy - 1) / dy;
    if (pw <= 0 || ph <= 0) continue;
    const rowBytes = (pw * bitsPP + 7) >> 3;
    let prev = zeros;
    for (let r = 0; r < ph; r++) {
      if (pos + 1 + rowBytes > len) {
        status = PNG_ERR_SHORT;
        break;
      }
      const row = data + <usize>(pos + 1);
      if (!unfilter(load<u8>(data + pos), row, prev, rowBytes, bpp)) {
        status = PNG_ERR_FILTER;
        break;
      }
      const y = y0 + r * dy;
      expandRow(row, pw, depth, ctype, palette, keyR, keyG, keyB,
        out + <usize>((y * width + x0) * outCh), dx, outCh);
      prev = row;
      pos += 1 + rowBytes;
    }
  }
  heap.free(zeros);
  return status;
}
