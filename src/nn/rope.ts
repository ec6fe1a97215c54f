// Rotary position embedding tables for the rope kernel (src/backend/kernels.ts, RopeArgs): per-token
// cos/sin [T, D] whose two halves repeat, as transformers builds them (emb = cat(freqs, freqs)).
// Three flavours: 1-D RoPE (text), Qwen2-VL's M-RoPE (3-D t/h/w positions, mrope_section splits the
// frequencies between the axes) and the vision tower's 2-D (h, w) rotary. Angles are computed in f32
// the way transformers does (inv_freq, then one f32 product per angle), so tables match its values.

export interface RopeTables {
  /** cos(angle) [t, d], row-major. */
  cos: Float32Array;
  sin: Float32Array;
  /** Tokens. */
  t: number;
  /** Head (rotary) dim. */
  d: number;
}

const f32 = Math.fround;

/** inv_freq[i] = 1 / base^(2i / dim) for i < dim/2, each step rounded to f32 (transformers' default rope init). */
export function inverseFrequencies(dim: number, base: number): Float32Array {
  if (!Number.isInteger(dim) || dim < 2 || dim % 2 !== 0) throw new Error(`rope: rotary dim must be a positive even integer, got ${dim}`);
  if (!(base > 0)) throw new Error(`rope: base (rope_theta) must be positive, got ${base}`);
  const out = new Float32Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) out[i] = f32(1 / f32(Math.pow(base, f32((2 * i) / dim))));
  return out;
}

/** Fills row `tok` of both tables from the half-width angles (angle[i] for i < d/2, repeated for the second half). */
function putRow(tables: RopeTables, tok: number, angle: (i: number) => number): void {
  const half = tables.d / 2;
  const row = tok * tables.d;
  for (let i = 0; i < half; i++) {
    const a = angle(i);
    tables.cos[row + i] = tables.cos[row + half + i] = Math.cos(a);
    tables.sin[row + i] = tables.sin[row + half + i] = Math.sin(a);
  }
}

function emptyTables(t: number, d: number): RopeTables {
  return { cos: new Float32Array(t * d), sin: new Float32Array(t * d), t, d };
}

/** 1-D RoPE: angle(t, i) = positions[t] · inv_freq[i], i < d/2. */
export function ropeTables(positions: ArrayLike<number>, headDim: number, base: number): RopeTables {
  const inv = inverseFrequencies(headDim, base);
  const tables = emptyTables(positions.length, headDim);
  for (let t = 0; t < positions.length; t++) putRow(tables, t, (i) => f32(inv[i] * positions[t]));
  return tables;
}

/**
 * M-RoPE (Qwen2-VL, Qwen2.5-VL): positions (t, h, w) per token. The first half's frequencies are cut
 * into mropeSection[0], [1], [2] consecutive ranges that take their angle from axis 0, 1, 2; the
 * second half repeats the first (transformers' recomposition with mrope_section).
 */
export function mropeTables(positions: readonly [ArrayLike<number>, ArrayLike<number>, ArrayLike<number>], headDim: number, base: number, mropeSection: readonly number[]): RopeTables {
  const [pt, ph, pw] = positions;
  if (ph.length !== pt.length || pw.length !== pt.length) throw new Error(`mrope: the t/h/w position arrays differ in length (${pt.length}, ${ph.length}, ${pw.length})`);
  const total = mropeSection.reduce((a, b) => a + b, 0);
  if (mropeSection.length !== 3 || total !== headDim / 2)
    throw new Error(`mrope: mrope_section ${JSON.stringify(mropeSection)} must have 3 parts summing to head_dim/2 = ${headDim / 2}`);
  const inv = inverseFrequencies(headDim, base);
  const axisOf = Array.from({ length: headDim / 2 }, (_, i) => (i < mropeSection[0] ? 0 : i < mropeSection[0] + mropeSection[1] ? 1 : 2));
  const tables = emptyTables(pt.length, headDim);
  for (let t = 0; t < pt.length; t++) {
    const axes = [pt[t], ph[t], pw[t]];
    putRow(tables, t, (i) => f32(inv[i] * axes[axisOf[i]]));
  }
  return tables;
}

/**
 * The vision tower's 2-D rotary (Qwen2-VL, Qwen2.5-VL): rotary dim headDim/2 with inv_freq over it,
 * angles [h·inv_freq, w·inv_freq] (headDim/4 each) per patch, repeated across the two halves.
 * hPos/wPos are the patches' row and column in the tower's patch order (the model's patchPositions).
 */
export function visionRopeTables(hPos: ArrayLike<number>, wPos: ArrayLike<number>, headDim: number, theta = 10000): RopeTables {
  if (headDim % 4 !== 0) throw new Error(`vision rope: head dim ${headDim} must be a multiple of 4`);
  if (wPos.length !== hPos.length) throw new Error(`vision rope: ${hPos.length} h positions but ${wPos.length} w positions`);
  const inv = inverseFrequencies(headDim / 2, theta);
  const q = headDim / 4;
  const tables = emptyTables(hPos.length, headDim);
  for (let t = 0; t < hPos.length; t++) putRow(tables, t, (i) => (i < q ? f32(inv[i] * hPos[t]) : f32(inv[i - q] * wPos[t])));
  return tables;
}
