import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { Tokenizer } from '../../src/text/index.js';
import { FIXTURES } from './fixtures.js';

const qwenJson = readFileSync(`${FIXTURES}/qwen2/tokenizer.json`, 'utf8');
const base = () => JSON.parse(qwenJson) as Record<string, any>;

describe('Tokenizer API', () => {
  it('maps tokens and ids both ways, added tokens included', async () => {
    const tk = await Tokenizer.fromJSON(qwenJson);
    const spec = base();
    for (const [tok, id] of Object.entries(spec.model.vocab as Record<string, number>).slice(0, 300)) {
      expect(tk.tokenToId(tok)).toBe(id);
      expect(tk.idToToken(id)).toBe(tok);
    }
    expect(tk.tokenToId('<|im_end|>')).toBe(spec.added_tokens.find((t: any) => t.content === '<|im_end|>').id);
    expect(tk.tokenToId('no such token')).toBeUndefined();
    expect(tk.idToToken(10 ** 7)).toBeUndefined();
    expect(tk.vocabSize).toBe(1204);
  });

  it('gives tokens as vocab strings and offsets that slice the source text', async () => {
    const tk = await Tokenizer.fromJSON(qwenJson);
    const text = 'The patient has hypertension.\n日本語 👍🏽';
    const enc = tk.encode(text);
    expect(enc.tokens).toEqual(Array.from(enc.ids, (id) => tk.idToToken(id)));
    expect(enc.tokens[1].startsWith('\u0120')).toBe(true); // byte-level space
    expect(enc.offsets[0]).toEqual([0, 3]);
    expect(enc.offsets.at(-1)![1]).toBe(text.length);
    expect(tk.decode(enc.ids)).toBe(text);
  });

  it('encodes batches as single texts', async () => {
    const tk = await Tokenizer.fromJSON(qwenJson);
    const texts = ['a', '', 'two words', '<|im_start|>x<|im_end|>'];
    expect(tk.encodeBatch(texts).map((e) => Array.from(e.ids))).toEqual(texts.map((t) => Array.from(tk.encode(t).ids)));
  });

  it('loads from Blobs (the browser path) and from a tokenizer.json path', async () => {
    const a = await Tokenizer.fromBlob(new Blob([qwenJson]), { tokenizerConfig: new Blob([readFileSync(`${FIXTURES}/qwen2/tokenizer_config.json`)]) });
    const b = await Tokenizer.fromFile(`${FIXTURES}/qwen2/tokenizer.json`);
    expect(Array.from(a.encode('hello world').ids)).toEqual(Array.from(b.encode('hello world').ids));
    expect(a.applyChatTemplate([{ role: 'user', content: 'hi' }], { addGenerationPrompt: true })).toContain('<|im_start|>assistant\n');
    await expect(Tokenizer.fromFile(`${FIXTURES}/nope`)).rejects.toThrow(/cannot read .*nope/);
  });
});

describe('malformed tokenizer.json', () => {
  const load = (mutate: (j: Record<string, any>) => void) => {
    const j = base();
    mutate(j);
    return Tokenizer.fromJSON(j);
  };

  it('names what is wrong', async () => {
    await expect(Tokenizer.fromJSON('{"model": ')).rejects.toThrow(/tokenizer.json: not valid JSON/);
    await expect(load((j) => delete j.model)).rejects.toThrow(/tokenizer.json: has no "model"/);
    await expect(load((j) => (j.model.merges[0] = ['Ġ', 'no-such-token']))).rejects.toThrow(
      /model.merges\[0\]: merge "Ġ no-such-token" names token "no-such-token", which is not in model.vocab/,
    );
    await expect(load((j) => (j.model.merges[3] = 'a b c'))).rejects.toThrow(/model.merges\[3\]: expected "a b" or \["a", "b"\]/);
    await expect(load((j) => (j.model.merges[1] = ['x', 'q']))).rejects.toThrow(/names token "xq", which is not in model.vocab/);
    await expect(load((j) => (j.model.type = 'WordPiece'))).rejects.toThrow(/model.type: 'WordPiece' is not supported/);
    await expect(load((j) => (j.pre_tokenizer.pretokenizers[0].pattern.Regex = '\\w+'))).rejects.toThrow(
      /pre_tokenizer.pretokenizers\[0\].pattern.Regex: unsupported split pattern "\\\\w\+"/,
    );
    await expect(load((j) => (j.pre_tokenizer = { type: 'Metaspace' }))).rejects.toThrow(/pre-tokenizer 'Metaspace' is not supported/);
    await expect(load((j) => (j.pre_tokenizer = j.pre_tokenizer.pretokenizers[0]))).rejects.toThrow(/must end with a ByteLevel pre-tokenizer/);
    await expect(load((j) => (j.pre_tokenizer.pretokenizers[1].add_prefix_space = true))).rejects.toThrow(/add_prefix_space=true is not supported/);
    await expect(load((j) => (j.normalizer = { type: 'Lowercase' }))).rejects.toThrow(/normalizer 'Lowercase' is not supported/);
    await expect(load((j) => (j.decoder = null))).rejects.toThrow(/decoder: a byte-level tokenizer needs a ByteLevel decoder/);
    await expect(load((j) => (j.model.unk_token = '<unk>'))).rejects.toThrow(/unk_token: "<unk>" is not in model.vocab/);
  });
});
