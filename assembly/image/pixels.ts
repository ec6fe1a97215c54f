// Pixel-layout work around the resize: L / RGB / RGBA → RGBX and back, and Qwen2-VL's patch
// flattening with normalisation through a lookup table. RGBA loses its alpha, as transformers
// 5.x's convert_to_rgb does (PIL's Image.convert("RGB")).

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
    for (let i = 0; i < n; i++) {
      const p = src + (<usize>i << 2);
      store<u32>(dst + (<usize>i << 2), load<u32>(p) | 0xff000000);
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
