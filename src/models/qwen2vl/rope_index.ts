// transformers' Qwen2-VL/Qwen2.5-VL get_rope_index (v5): 3-D rotary positions (temporal,
// height, width) for a sequence with image tokens. Text runs count up on all three axes;
// an image of llm grid (t, h/m, w/m) gets the meshgrid of its axes offset by the current
// position, and the text after it continues from that position + max(h, w)/m.
import type { QwenVLConfig } from './config.js';
import type { Grid } from './vision.js';

export interface RopeIndex {
  /** [3, T]: temporal, height and width position of each token. */
  positions: Int32Array;
  /** max position + 1 − T: added to the text positions of tokens generated after this prompt. */
  delta: number;
}

export function ropeIndex(cfg: QwenVLConfig, ids: Int32Array, grids: Grid[]): RopeIndex {
  const T = ids.length;
  const m = cfg.vision.spatialMergeSize;
  const out = new Int32Array(3 * T);
  let pos = 0;
  let img = 0;
  let max = -1;
  for (let i = 0; i < T; ) {
    if (ids[i] === cfg.videoTokenId) throw new Error('rope index: video inputs are not supported');
    if (ids[i] !== cfg.imageTokenId) {
      for (let a = 0; a < 3; a++) out[a * T + i] = pos;
      max = Math.max(max, pos);
      pos++;
      i++;
      continue;
    }
    let end = i;
    while (end < T && ids[end] === cfg.imageTokenId) end++;
    const grid = grids[img++];
    if (!grid) throw new Error(`rope index: image ${img} has tokens in the prompt but no image_grid_thw entry (${grids.length} given)`);
    const [gt, gh, gw] = grid;
    const [lh, lw] = [gh / m, gw / m];
    if (end - i !== gt * lh * lw)
      throw new Error(`rope index: image ${img} has ${end - i} image tokens but its grid ${gt}×${gh}×${gw} needs ${gt * lh * lw} (merge size ${m})`);
    let k = i;
    for (let t = 0; t < gt; t++)
      for (let h = 0; h < lh; h++)
        for (let w = 0; w < lw; w++, k++) {
          out[k] = t + pos;
          out[T + k] = h + pos;
          out[2 * T + k] = w + pos;
          max = Math.max(max, t + pos, h + pos, w + pos);
        }
    pos += Math.max(gh, gw) / m;
    i = end;
  }
  if (img !== grids.length) throw new Error(`rope index: ${grids.length} image grids given but the prompt has ${img} images`);
  return { positions: out, delta: max + 1 - T };
}
