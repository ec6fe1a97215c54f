// transformers' Qwen2-VL smart_resize (image_processing_qwen2_vl.py), with Python's rounding:
// both sides become multiples of `factor`, the area lands in [minPixels, maxPixels], and the
// aspect ratio is kept as closely as that allows.

/** Python's round(): half to even. */
function pyRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d !== 0.5) return d < 0.5 ? f : f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** [height, width] after resizing. */
export function smartResize(height: number, width: number, factor: number, minPixels: number, maxPixels: number): [number, number] {
  if (!(height > 0 && width > 0)) throw new Error(`smartResize: image is ${width}×${height}; both sides must be positive`);
  const ratio = Math.max(height, width) / Math.min(height, width);
  if (ratio > 200) throw new Error(`smartResize: aspect ratio ${ratio} of ${width}×${height} is over 200, which Qwen2-VL refuses; crop or pad the image`);
  let h = pyRound(height / factor) * factor;
  let w = pyRound(width / factor) * factor;
  if (h * w > maxPixels) {
    const beta = Math.sqrt((height * width) / maxPixels);
    h = Math.max(factor, Math.floor(height / beta / factor) * factor);
    w = Math.max(factor, Math.floor(width / beta / factor) * factor);
  } else if (h * w < minPixels) {
    const beta = Math.sqrt(minPixels / (height * width));
    h = Math.ceil((height * beta) / factor) * factor;
    w = Math.ceil((width * beta) / factor) * factor;
  }
  return [h, w];
}
