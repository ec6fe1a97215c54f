import { describe, expect, it } from 'vitest';
import { IGNORE_INDEX } from '../../src/train/data/tokenize.js';
import { Packer, type PackableSample, type PackedRow } from '../../src/train/packing.js';
import { Rng } from '../../src/util/rng.js';

/** Samples of varied lengths whose ids encode (sample, position), with a labelled tail. */
function samples(n: number, seed = 1, maxLen = 40): PackableSample[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, s) => {
    const len = 1 + Math.floor(rng.next() * maxLen);
    const inputIds = Int32Array.from({ length: len }, (_, i) => s * 1000 + i);
    // every fifth sample is labelled from its first token, which packing must not predict from the sample before
    const labels = inputIds.map((id, i) => (s % 5 === 0 || i >= len / 2 ? id : IGNORE_INDEX));
    return { id: `s${s}`, inputIds, labels, file: 'train.jsonl', line: s + 1 };
  });
}

function take(it: { next(): PackedRow }, n: number): PackedRow[] {
  return Array.from({ length: n }, () => it.next());
}

/** (sample, position, target) of every prediction the shifted loss makes. */
function predictions(rows: PackedRow[]): string[] {
  const out: string[] = [];
  for (const r of rows)
    for (let i = 0; i + 1 < r.inputIds.length; i++)
      if (r.labels[i + 1] !== IGNORE_INDEX) out.push(`${Math.floor(r.inputIds[i] / 1000)}@${r.positionIds[i]}→${r.labels[i + 1]}`);
  return out.sort();
}

describe('packing', () => {
  const data = samples(50);
  const options = { batchTokens: 64, seed: 7 };

  it('packs each epoch into rows ≤ batchTokens with restarting positions, cu_seqlens and sample ids', () => {
    const packer = new Packer(data, options);
    const [perEpoch] = packer.rowsPerEpoch(1);
    const rows = take(packer.iterate(), perEpoch);
    expect(rows.every((r) => r.epoch === 0)).toBe(true);
    const seen = rows.flatMap((r) => r.sampleIds);
    expect(seen.slice().sort()).toEqual(data.map((s) => s.id).sort()); // each sample once
    expect(seen).not.toEqual(data.map((s) => s.id)); // shuffled
    for (const r of rows) {
      expect(r.inputIds.length).toBeLessThanOrEqual(64);
      expect(r.cuSeqlens[0]).toBe(0);
      expect(r.cuSeqlens[r.cuSeqlens.length - 1]).toBe(r.inputIds.length);
      r.sampleIds.forEach((id, k) => {
        const s = data.find((x) => x.id === id)!;
        const [a, b] = [r.cuSeqlens[k], r.cuSeqlens[k + 1]];
        expect(Array.from(r.inputIds.subarray(a, b))).toEqual(Array.from(s.inputIds));
        expect(Array.from(r.positionIds.subarray(a, b))).toEqual(Array.from(s.inputIds, (_, i) => i));
        expect(r.labels[a]).toBe(IGNORE_INDEX);
        expect(Array.from(r.labels.subarray(a + 1, b))).toEqual(Array.from(s.labels.subarray(1)));
      });
      expect(r.labelTokens).toBe(r.labels.filter((l) => l !== IGNORE_INDEX).length);
    }
    // greedy: the next sample in order did not fit in the row before
    for (let i = 0; i + 1 < rows.length; i++) {
      const next = data.find((x) => x.id === rows[i + 1].sampleIds[0])!;
      expect(rows[i].inputIds.length + next.inputIds.length).toBeGreaterThan(64);
    }
  });

  it('makes the same predictions as the unpacked samples, none across a sample boundary', () => {
    const packer = new Packer(data, options);
    const rows = take(packer.iterate(), packer.rowsPerEpoch(1)[0]);
    const unpacked = data.map((s) => ({ ...s, labels: s.labels, positionIds: Int32Array.from(s.inputIds, (_, i) => i) }) as unknown as PackedRow);
    expect(predictions(rows)).toEqual(predictions(unpacked));
  });

  it('is deterministic for a seed, reshuffles every epoch, and keeps file order without shuffle', () => {
    const a = take(new Packer(data, options).iterate(), 40).map((r) => r.sampleIds.join());
    const b = take(new Packer(data, options).iterate(), 40).map((r) => r.sampleIds.join());
    expect(a).toEqual(b);
    const other = take(new Packer(data, { ...options, seed: 8 }).iterate(), 40).map((r) => r.sampleIds.join());
    expect(other).not.toEqual(a);
    const packer = new Packer(data, options);
    const [n0, n1] = packer.rowsPerEpoch(2);
    const it = packer.iterate();
    const e0 = take(it, n0).flatMap((r) => r.sampleIds);
    const e1rows = take(it, n1);
    expect(e1rows.every((r) => r.epoch === 1)).toBe(true);
    expect(it.position).toMatchObject({ epoch: 2, index: 0 });
    const e1 = e1rows.flatMap((r) => r.sampleIds);
    expect(e1.slice().sort()).toEqual(e0.slice().sort());
    expect(e1).not.toEqual(e0);
    const ordered = new Packer(data, { ...options, shuffle: false });
    expect(take(ordered.iterate(), ordered.rowsPerEpoch(1)[0]).flatMap((r) => r.sampleIds)).toEqual(data.map((s) => s.id));
  });

  it('resumes from a saved position exactly, across epoch boundaries', () => {
    const packer = new Packer(data, options);
    const whole = take(packer.iterate(), 60);
    for (const cut of [0, 1, 13, packer.rowsPerEpoch(1)[0], 41]) {
      const it = packer.iterate();
      take(it, cut);
      const saved = JSON.parse(JSON.stringify(it.position)) as typeof it.position;
      const resumed = take(new Packer(samples(50), options).iterate(saved), 60 - cut);
      expect(resumed).toEqual(whole.slice(cut));
    }
  });

  it('rejects samples that do not fit, empty data and positions that do not match', () => {
    expect(() => new Packer(data, { ...options, batchTokens: 20 })).toThrow(/sample 's\d+' \(train\.jsonl:\d+\) has \d+ tokens, more than batchTokens 20; set --max-len to at most 20/);
    expect(() => new Packer([], options)).toThrow(/no samples to pack/);
    expect(() => new Packer(data, { ...options, batchTokens: 0 })).toThrow(/batchTokens must be a positive integer/);
    const bad = { ...data[0], labels: new Int32Array(1) };
    expect(() => new Packer([bad], options)).toThrow(/has \d+ ids but 1 labels/);
    const packer = new Packer(data, options);
    expect(() => packer.iterate({ epoch: 0, index: 50, rngState: 7 })).toThrow(/not valid for 50 samples/);
    expect(() => packer.iterate({ epoch: -1, index: 0, rngState: 7 })).toThrow(/not valid/);
  });
});
