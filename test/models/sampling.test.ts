// pickToken against the full-sort definition it replaces (every token ranked by logit, ties by id;
// top-k, then the smallest top-p prefix; one uniform draw walked over the kept weights): the same
// token for the same seed. Rows of 152k logits like an lm_head's, peaked and flat.
import { describe, expect, it } from 'vitest';
import { pickToken, type SamplingOptions } from '../../src/models/qwen2vl/sampling.js';
import { Rng } from '../../src/util/rng.js';

/** `ranked`: every id in logit order, ties by id (sorted once per row). */
function fullSortPick(logits: Float32Array, ranked: number[], o: SamplingOptions, rng: Rng): number {
  const temperature = o.temperature ?? 0;
  let ids = ranked;
  if (temperature <= 0) return ids[0];
  if (o.topK && o.topK > 0) ids = ids.slice(0, o.topK);
  const max = logits[ids[0]];
  let probs = ids.map((i) => Math.exp((logits[i] - max) / temperature));
  let sum = probs.reduce((a, b) => a + b, 0);
  if (o.topP !== undefined && o.topP < 1) {
    let mass = 0;
    let keep = 0;
    while (keep < ids.length && (keep === 0 || mass < o.topP * sum)) mass += probs[keep++];
    ids = ids.slice(0, keep);
    probs = probs.slice(0, keep);
    sum = mass;
  }
  let r = rng.next() * sum;
  for (let i = 0; i < ids.length; i++) {
    r -= probs[i];
    if (r <= 0) return ids[i];
  }
  return ids[ids.length - 1];
}

const VOCAB = 151936;

function row(kind: 'peaked' | 'flat' | 'ties', seed: number): Float32Array {
  const rng = new Rng(seed);
  const l = new Float32Array(VOCAB);
  for (let i = 0; i < VOCAB; i++) l[i] = kind === 'flat' ? rng.next() * 0.5 : kind === 'ties' ? Math.floor(rng.next() * 4) : rng.next() * 6;
  if (kind === 'peaked') for (let j = 0; j < 20; j++) l[Math.floor(rng.next() * VOCAB)] = 18 + rng.next() * 4;
  l[7] = -Infinity; // a masked token is never picked
  return l;
}

const SETTINGS: SamplingOptions[] = [
  { temperature: 0 },
  { temperature: 1 },
  { temperature: 0.7, topK: 50 },
  { temperature: 1, topP: 0.9 },
  { temperature: 1.3, topK: 200, topP: 0.95 },
  { temperature: 0.5, topP: 0.5 },
  { temperature: 2, topK: VOCAB + 5 },
];

describe('pickToken', () => {
  it.each(['peaked', 'flat', 'ties'] as const)('picks what the full-sort definition picks: %s rows', (kind) => {
    for (let seed = 0; seed < 4; seed++) {
      const logits = row(kind, 100 + seed);
      const ranked = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b);
      for (const o of SETTINGS) {
        for (let draw = 0; draw < 3; draw++) {
          const s = 1000 * seed + draw;
          const got = pickToken(logits, o, new Rng(s));
          expect(got, `${kind} seed ${seed} ${JSON.stringify(o)} draw ${draw}`).toBe(fullSortPick(logits, ranked, o, new Rng(s)));
          expect(got).not.toBe(7);
        }
      }
    }
  });

  it('greedy takes the first maximum; a lone candidate needs no draw', () => {
    const l = Float32Array.from([1, 5, 5, -2]);
    expect(pickToken(l, {}, new Rng(1))).toBe(1);
    expect(pickToken(l, { temperature: 1, topK: 1 }, new Rng(1))).toBe(1);
    expect(pickToken(l, { temperature: 1, topP: 1e-9 }, new Rng(1))).toBe(1);
  });
});
