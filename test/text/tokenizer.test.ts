import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { Tokenizer } from '../../src/text/index.js';
import { FIXTURES, STYLES, cases, strings, toUtf16Offsets } from './fixtures.js';

describe.each(STYLES)('%s-style tokenizer matches tokenizers (Rust)', (style) => {
  const ref = cases.results[style];
  const load = () => Tokenizer.fromFile(`${FIXTURES}/${style}`);

  it('gives identical ids, with and without special tokens', async () => {
    const tk = await load();
    const bad: string[] = [];
    strings.strings.forEach((s, i) => {
      const got = Array.from(tk.encode(s).ids);
      const plain = Array.from(tk.encode(s, { addSpecialTokens: false }).ids);
      if (JSON.stringify(got) !== JSON.stringify(ref.cases[i].ids) || JSON.stringify(plain) !== JSON.stringify(ref.cases[i].plain))
        bad.push(`#${i} ${JSON.stringify(s)}: got ${JSON.stringify(got)} want ${JSON.stringify(ref.cases[i].ids)}`);
    });
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it('gives identical offsets', async () => {
    const tk = await load();
    const bad: string[] = [];
    strings.strings.forEach((s, i) => {
      const want = toUtf16Offsets(s, ref.cases[i].offsets);
      const got = tk.encode(s).offsets;
      if (JSON.stringify(got) !== JSON.stringify(want)) bad.push(`#${i} ${JSON.stringify(s)}: got ${JSON.stringify(got)} want ${JSON.stringify(want)}`);
    });
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it('decodes as tokenizers does, with and without special tokens', async () => {
    const tk = await load();
    strings.strings.forEach((_, i) => {
      const c = ref.cases[i];
      expect(tk.decode(c.ids), `#${i}`).toBe(c.decoded);
      expect(tk.decode(c.ids, { skipSpecialTokens: true }), `#${i}`).toBe(c.decodedSkip);
    });
  });

  it('encodes 100 kB strings identically and round-trips them', async () => {
    const tk = await load();
    strings.long.forEach((s, i) => {
      const ids = tk.encode(s, { addSpecialTokens: false }).ids;
      const want = ref.long[i];
      expect(ids.length, `long #${i}`).toBe(want.count);
      expect(Array.from(ids.subarray(0, 64))).toEqual(want.head);
      expect(Array.from(ids.subarray(ids.length - 64))).toEqual(want.tail);
      expect(createHash('sha256').update(new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength)).digest('hex')).toBe(want.sha256);
      expect(tk.decode(ids) === s.normalize('NFC')).toBe(want.roundTrip);
    });
  });
});
