// Attention tuning tables: parsing checks every field against what the shader can run, and a table
// applies only to the adapter it was measured on (the built-in tiles serve every other one).
import { describe, expect, it } from 'vitest';
import { attentionTile, attentionTuningFor, parseAttentionTuning, useAttentionTuning, type AttentionTuning } from '../../src/backend/webgpu/kernels/attention.js';

const table: AttentionTuning = {
  adapter: 'test GPU · tuning',
  date: '2026-11-26T20:00:00.000Z',
  source: 'test',
  tiles: { fwd: { 64: { wg: 128, tc: 16, br: 32, bc: 64, dk: 32 } }, dkdv: { 128: { wg: 128, tc: 16, br: 32, bc: 64, dk: 16 } } },
};
const FIX = 'write the table with `node dist/node/bench.js attention --device webgpu --tuning FILE.json`';

describe('attention tuning tables', () => {
  it('parse what the benchmark writes, field for field', () => {
    expect(parseAttentionTuning(JSON.parse(JSON.stringify(table)), 'mine.json')).toEqual(table);
  });

  const bad: [string, unknown, string][] = [
    ['not an object', [], 'mine.json: the table must be a JSON object'],
    ['no adapter', { ...table, adapter: 3 }, 'mine.json: "adapter" must be a string'],
    ['no tiles', { ...table, tiles: undefined }, 'mine.json: "tiles" must be a JSON object'],
    ['an unknown pass', { ...table, tiles: { bwd: {} } }, 'mine.json: tiles.bwd is not a pass: expected fwd, dq, dkdv'],
    ['an unknown head-dim class', { ...table, tiles: { fwd: { 80: table.tiles.fwd![64] } } }, 'mine.json: tiles.fwd.80 is not a head-dim class: expected 32, 64, 96, 128'],
    ['a fractional field', { ...table, tiles: { fwd: { 64: { ...table.tiles.fwd![64], br: 32.5 } } } }, 'mine.json: tiles.fwd.64.br must be a positive integer, got 32.5'],
    ['a missing field', { ...table, tiles: { fwd: { 64: { wg: 128, tc: 16, br: 32, bc: 64 } } } }, 'mine.json: tiles.fwd.64.dk must be a positive integer, got undefined'],
    ['a tile the shader cannot run', { ...table, tiles: { dq: { 128: { wg: 128, tc: 16, br: 16, bc: 64, dk: 16 } } } }, 'mine.json: tiles.dq.128 {"wg":128,"tc":16,"br":16,"bc":64,"dk":16} cannot run: rows per thread br·tc/wg must be 4 or 8'],
  ];
  it.each(bad)('refuse %s, naming the file, the field and the fix', (_, json, message) => {
    expect(() => parseAttentionTuning(json, 'mine.json')).toThrow(`${message}; ${FIX}`);
  });

  it('apply to their adapter only, pass by pass and class by class', () => {
    const builtIn = { fwd64: attentionTile('fwd', 64), dq64: attentionTile('dq', 64), dkdv128: attentionTile('dkdv', 128) };
    expect(attentionTuningFor(table.adapter)).toBeUndefined();
    useAttentionTuning(table);
    try {
      expect(attentionTile('fwd', 50, table.adapter)).toEqual(table.tiles.fwd![64]); // d 50 is in the d ≤ 64 class
      expect(attentionTile('dkdv', 128, table.adapter)).toEqual(table.tiles.dkdv![128]);
      expect(attentionTile('dq', 64, table.adapter)).toEqual(builtIn.dq64); // not in the table
      expect(attentionTile('fwd', 64, 'another GPU')).toEqual(builtIn.fwd64);
      expect(attentionTile('dkdv', 128)).toEqual(builtIn.dkdv128);
    } finally {
      useAttentionTuning({ ...table, tiles: {} });
    }
  });
});
