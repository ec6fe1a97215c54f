// Attention, RoPE tables, the rope kernel and get_rope_index against PyTorch / transformers 5.17
// (test/fixtures/attention/attention.json, made by tools/fixtures/attention.py).
//   sdpa:       scaled_dot_product_attention (float64 from f32 inputs) vs our f32 kernels: ≤ 1e-5 / 2e-5
//               relative, as against the float64 JS reference in attention.test.ts.
//   rope_1d, mrope, vision: inv_freq exactly; cos/sin within 2 f32 ulps at |angle| ≤ 4e3 (4e-7
//               absolute); rotated q within 1e-6 of |q|max.
//   rope_index: position ids and deltas exactly.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { attentionGradScratchBytes } from '../../src/backend/kernels.js';
import { parseQwenVLConfig } from '../../src/models/qwen2vl/config.js';
import { batchRopeIndex } from '../../src/models/qwen2vl/rope_index.js';
import { patchPositions, type Grid } from '../../src/models/qwen2vl/vision.js';
import { inverseFrequencies, mropeTables, ropeTables, visionRopeTables, type RopeTables } from '../../src/nn/rope.js';
import { downloadF32, maxRelError, testBackends } from '../helpers/backends.js';
import { StorageScope } from '../helpers/scope.js';
import { f32, fixture } from './fixture.js';
import { COMPILE_TIMEOUT } from './timeout.js';

const backends = await testBackends();

interface SdpaCase {
  name: string;
  causal: boolean;
  hq: number;
  hkv: number;
  d: number;
  cu_q: number[];
  cu_k: number[];
  scale: number;
  [tensor: string]: unknown;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

/** Our tables for each rotary fixture section, from its positions (or grids) alone. */
const TABLES: Record<'rope_1d' | 'mrope' | 'vision', () => RopeTables> = {
  rope_1d: () => ropeTables(fixture.rope_1d.positions, fixture.rope_1d.head_dim, fixture.rope_1d.theta),
  mrope: () => {
    const r = fixture.mrope;
    const n = r.positions.length / 3;
    const axis = (a: number) => r.positions.slice(a * n, (a + 1) * n);
    return mropeTables([axis(0), axis(1), axis(2)], r.head_dim, r.theta, r.mrope_section);
  },
  vision: () => {
    const r = fixture.vision;
    const grids: Grid[] = Array.from({ length: r.grid_thw.length / 3 }, (_, i) => r.grid_thw.slice(3 * i, 3 * i + 3) as Grid);
    const hw = patchPositions(grids, r.spatial_merge_size);
    return visionRopeTables(hw.filter((_, i) => i % 2 === 0), hw.filter((_, i) => i % 2 === 1), r.head_dim, r.theta);
  },
};
const ROTARY = Object.keys(TABLES) as (keyof typeof TABLES)[];

it('the fixture ran every section', () => {
  expect(fixture.errors).toEqual([]);
});

describe.each(backends)('against PyTorch on $name', COMPILE_TIMEOUT, ({ backend }) => {
  it.each(fixture.sdpa as SdpaCase[])('scaled_dot_product_attention: $name', async (c) => {
    const t = (name: string) => f32(c[name] as string);
    const sc = new StorageScope(backend);
    const tq = c.cu_q[c.cu_q.length - 1];
    const tk = c.cu_k[c.cu_k.length - 1];
    const lens = (cu: number[]) => Math.max(...cu.slice(1).map((x, i) => x - cu[i]));
    const args = {
      q: sc.input(t('q')), k: sc.input(t('k')), v: sc.input(t('v')),
      out: sc.output(tq * c.hq * c.d), lse: sc.output(c.hq * tq),
      cuSeqlensQ: sc.input(Int32Array.from(c.cu_q)), cuSeqlensK: sc.input(Int32Array.from(c.cu_k)),
      nSeq: c.cu_q.length - 1, maxSeqlenQ: lens(c.cu_q), maxSeqlenK: lens(c.cu_k),
      tq, tk, hq: c.hq, hkv: c.hkv, d: c.d, causal: c.causal, scale: c.scale,
    };
    backend.attention(args);
    const grads = { gq: sc.output(tq * c.hq * c.d), gk: sc.output(tk * c.hkv * c.d), gv: sc.output(tk * c.hkv * c.d) };
    backend.attentionGrad({ ...args, ...grads, gOut: sc.input(t('g_out')), scratch: sc.output(attentionGradScratchBytes(args) / 4) });
    expect(maxRelError(await downloadF32(backend, args.out, tq * c.hq * c.d), t('out')), 'out').toBeLessThanOrEqual(1e-5);
    for (const [name, s] of Object.entries(grads)) {
      const want = t(name);
      expect(maxRelError(await downloadF32(backend, s, want.length), want), name).toBeLessThanOrEqual(2e-5);
    }
    sc.free();
  });

  it.each(ROTARY)('rope kernel: q rotated as transformers does (%s)', async (section) => {
    const r = fixture[section];
    const tables = TABLES[section]();
    const q = f32(r.q);
    const t = tables.t;
    const h = q.length / (t * r.head_dim);
    const sc = new StorageScope(backend);
    const out = sc.output(q.length);
    backend.rope({ x: sc.input(q), cos: sc.input(tables.cos), sin: sc.input(tables.sin), out, t, h, d: r.head_dim, inverse: false });
    expect(maxRelError(await downloadF32(backend, out, q.length), f32(r.q_embed))).toBeLessThanOrEqual(1e-6);
    sc.free();
  });
});

describe('rotary tables and positions against transformers', () => {
  it.each(['rope_1d', 'mrope'] as const)('%s: inv_freq bit-exact', (section) => {
    const r = fixture[section];
    expect(Array.from(inverseFrequencies(r.head_dim, r.theta))).toEqual(Array.from(f32(r.inv_freq)));
  });

  it.each(ROTARY)('%s: cos/sin tables within 2 ulps', (section) => {
    const r = fixture[section];
    const tables = TABLES[section]();
    expect(tables.cos.length).toBe(f32(r.cos).length);
    expect(maxAbsDiff(tables.cos, f32(r.cos))).toBeLessThanOrEqual(4e-7);
    expect(maxAbsDiff(tables.sin, f32(r.sin))).toBeLessThanOrEqual(4e-7);
  });

  it('get_rope_index: two images + text (right padded), one image (left padded), text only', () => {
    const r = fixture.rope_index;
    const model = JSON.parse(readFileSync(new URL('../fixtures/qwen_vl/qwen2_5_vl/model/config.json', import.meta.url), 'utf8'));
    const cfg = parseQwenVLConfig({ ...model, image_token_id: r.image_token_id, vision_start_token_id: r.vision_start_token_id, vision_end_token_id: r.vision_end_token_id });
    expect(cfg.vision.spatialMergeSize).toBe(r.spatial_merge_size);
    const rows = (flat: number[]) => Array.from({ length: r.batch }, (_, b) => flat.slice(b * r.length, (b + 1) * r.length));
    const grids: Grid[] = Array.from({ length: r.image_grid_thw.length / 3 }, (_, i) => r.image_grid_thw.slice(3 * i, 3 * i + 3) as Grid);
    const got = batchRopeIndex(cfg, rows(r.input_ids), grids, rows(r.attention_mask));
    expect(Array.from(got.positionIds)).toEqual(r.position_ids);
    expect(Array.from(got.ropeDeltas)).toEqual(r.rope_deltas);
  });
});
