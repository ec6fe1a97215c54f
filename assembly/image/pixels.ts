// Pixel-layout work around the resize: L / RGB / RGBA → RGBX (RGBA composited on white exactly as
// transformers' convert_to_rgb does with PIL's Image.alpha_composite, libImaging/AlphaComposite.c),
// RGBX → L / RGB, and Qwen2-VL's patch flattening with normalisation through a lookup table.

const COMPOSITE_BITS = 7; // PRECISION_BITS of AlphaComposite.c

@inline function shiftForDiv255(a: u32): u32 {
  return ((a >> 8) + a) >> 8;
}

/** src pixels with `channels` ∈ {1, 3, 4} → RGBX (X = 255). */
export function to_rgbx(src: usize, n: i32, channels: i32, dst: usize): void {
  if (channels == 1) {
    for (let i = 0; i < n; i++) {
      const g = <u32>load<u8>(src + i);
      store<u32>(dst + (<usize>i << 2), g | (g << 8) | (g << 16) | 0xff000000);
    }
  } else if (channels == 3) {
    for (let i = 0; i < n; i++) {
      const s = src + <usize>(i * 3);
      store<u32>(dst + (<usize>i << 2), <u32>load<u8>(s) | (<u32>load<u8>(s + 1) << 8) | (<u32>load<u8>(s + 2) << 16) | 0xff000000);
    }
  } else {
    // alpha_composite(white, src): dst.a = 255 so outa255 = 255·255 and coef1 = a·255·255·128 / outa255
    for (let i = 0; i < n; i++) {
      const s = src + (<usize>i << 2);
      const a = <u32>load<u8>(s + 3);
      let px: u32 = 0xffffffff;
      if (a != 0) {
        const blend: u32 = 255 * (255 - a);
        const outa255: u32 = a * 255 + blend;
        const coef1: u32 = (a * 255 * 255 * (1 << COMPOSITE_BITS)) / outa255;
        const coef2: u32 = 255 * (1 << COMPOSITE_BITS) - coef1;
        px = 0xff000000;
        for (let c = 0; c < 3; c++) {
          const tmp = <u32>load<u8>(s + c) * coef1 + 255 * coef2;
          px |= (shiftForDiv255(tmp + (0x80 << COMPOSITE_BITS)) >> COMPOSITE_BITS) << (8 * c);
        }
      }
      store<u32>(dst + (<usize>i << 2), px);
    }
  }
}

/** RGBX → `channels` ∈ {1, 3} (grey keeps the first channel: all three are equal for grey input). */
export function from_rgbx(src: usize, n: i32, channels: i32, dst: usize): void {
  for (let i = 0; i < n; i++) {
    const s = src + (<usize>i << 2);
    if (channels == 1) store<u8>(dst + i, load<u8>(s));
    else {
      const d = dst + <usize>(i * 3);
      store<u8>(d, load<u8>(s));
      store<u8>(d + 1, load<u8>(s + 1));
      store<u8>(d + 2, load<u8>(s + 2));
    }
  }
}

/**
 * Qwen2-VL patch flattening of one RGBX image (height × width, both multiples of patch·merge):
 * rows ordered (block row, block column, merge row, merge column), each row laid out as
 * (channel, temporal copy, y, x) = 3 · temporal · patch² floats; value = lut[channel·256 + byte].
 */
export function patchify(src: usize, width: i32, height: i32, patch: i32, merge: i32, temporal: i32, lut: usize, out: usize): void {
  const bh = height / patch / merge;
  const bw = width / patch / merge;
  const plane = <usize>(patch * patch) << 2;
  let o = out;
  for (let by = 0; by < bh; by++) {
    for (let bx = 0; bx < bw; bx++) {
      for (let my = 0; my < merge; my++) {
        for (let mx = 0; mx < merge; mx++) {
          const row0 = (by * merge + my) * patch;
          const col0 = (bx * merge + mx) * patch;
          for (let c = 0; c < 3; c++) {
            const table = lut + (<usize>c << 10);
            const start = o;
            for (let py = 0; py < patch; py++) {
              let p = src + (<usize>((row0 + py) * width + col0) << 2) + <usize>c;
              for (let px = 0; px < patch; px++, p += 4, o += 4) {
                store<f32>(o, load<f32>(table + (<usize>load<u8>(p) << 2)));
              }
            }
            for (let t = 1; t < temporal; t++, o += plane) memory.copy(o, start, plane);
          }
        }
      }
    }
  }
}
