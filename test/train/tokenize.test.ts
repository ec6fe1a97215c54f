import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { Tokenizer, type ChatMessage } from '../../src/text/index.js';
import { DataError, IGNORE_INDEX, imageGridLookup, tokenizeSft, type SftExample, type SftSample } from '../../src/train/data/index.js';
import { decode, Qwen2VLImageProcessor } from '../../src/vision/index.js';

const QWEN = 'test/fixtures/tokenizer/qwen2';
let tk: Tokenizer;

beforeAll(async () => {
  tk = await Tokenizer.fromFile(QWEN);
});

function example(messages: ChatMessage[], line = 1, images: string[] = []): SftExample {
  return { id: `ex${line}`, file: 'train.jsonl', line, messages, images };
}

/** Runs of labelled tokens, decoded. */
function labelledRuns(s: SftSample): string[] {
  const runs: string[] = [];
  let run: number[] = [];
  s.labels.forEach((l, i) => {
    if (l !== IGNORE_INDEX) {
      expect(l).toBe(s.inputIds[i]);
      run.push(l);
    } else if (run.length) {
      runs.push(tk.decode(run));
      run = [];
    }
  });
  if (run.length) runs.push(tk.decode(run));
  return runs;
}

const opts = { maxLen: 4096, truncation: 'right' as const };

describe('SFT tokenization with assistant-only labels', () => {
  it('labels the reply and <|im_end|> on the Qwen2 template, not the header or the prompt', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'What is the normal resting heart rate?' },
      { role: 'assistant', content: '<think>Adults: 60 to 100.</think>\n<answer>60-100 bpm</answer>' },
    ];
    const { samples, issues } = tokenizeSft([example(messages)], tk, opts);
    expect(issues).toEqual([]);
    const [s] = samples;
    const text = tk.applyChatTemplate(messages);
    expect(Array.from(s.inputIds)).toEqual(Array.from(tk.encode(text, { addSpecialTokens: false }).ids));
    expect(labelledRuns(s)).toEqual(['<think>Adults: 60 to 100.</think>\n<answer>60-100 bpm</answer><|im_end|>']);
    const firstLabel = s.labels.findIndex((l) => l !== IGNORE_INDEX);
    expect(tk.decode(Array.from(s.inputIds.subarray(0, firstLabel)))).toBe(tk.applyChatTemplate(messages.slice(0, 1), { addGenerationPrompt: true }));
    // the newline the template puts after <|im_end|> is the last token and is not labelled
    expect(tk.decode([s.inputIds[s.inputIds.length - 1]])).toBe('\n');
    expect(s.labels[s.labels.length - 1]).toBe(IGNORE_INDEX);
  });

  it('labels every assistant turn of a multi-turn conversation', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'You are a radiologist.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello.' },
      { role: 'user', content: [{ type: 'text', text: 'Any fracture?' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'No fracture.' }] },
    ];
    const [s] = tokenizeSft([example(messages)], tk, opts).samples;
    expect(labelledRuns(s)).toEqual(['Hello.<|im_end|>', 'No fracture.<|im_end|>']);
  });

  it('keeps a token that BPE merges across the header boundary with the reply', async () => {
    // the fixture has no "\n\n" token; add one (byte-level "ĊĊ") so the header's newline and
    // the reply's leading newlines become one pre-token that BPE merges across the boundary
    const json = JSON.parse(readFileSync(`${QWEN}/tokenizer.json`, 'utf8')) as {
      model: { vocab: Record<string, number>; merges: [string, string][] };
    };
    json.model.vocab['ĊĊ'] = Object.keys(json.model.vocab).length; // added tokens then follow it, as tokenizers numbers them
    json.model.merges.unshift(['Ċ', 'Ċ']);
    const merging = await Tokenizer.fromJSON(json, tk.extras);
    const messages: ChatMessage[] = [
      { role: 'user', content: 'x' },
      { role: 'assistant', content: '\n\nIndented reply' },
    ];
    const [s] = tokenizeSft([example(messages)], merging, opts).samples;
    const nn = merging.tokenToId('ĊĊ')!;
    const first = s.labels.findIndex((l) => l !== IGNORE_INDEX);
    expect(s.inputIds[first]).toBe(nn); // "\n" of the header + "\n" of the reply
    expect(merging.decode(Array.from(s.inputIds.subarray(0, first)))).toBe(merging.applyChatTemplate(messages.slice(0, 1), { addGenerationPrompt: true }).slice(0, -1));
    expect(merging.decode(Array.from(s.labels.subarray(first).filter((l) => l !== IGNORE_INDEX)))).toBe('\n\n\nIndented reply<|im_end|>');
  });

  it('cuts to maxLen (right) or drops (drop), and counts both', () => {
    const long = example([{ role: 'user', content: 'Explain.' }, { role: 'assistant', content: 'word '.repeat(60) }], 1);
    const short = example([{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hi.' }], 2);
    const full = tokenizeSft([long], tk, opts).samples[0].inputIds.length;
    const maxLen = full - 10;
    const right = tokenizeSft([long, short], tk, { maxLen, truncation: 'right' });
    expect(right).toMatchObject({ truncated: 1, dropped: 0, issues: [] });
    expect(right.samples.map((s) => [s.id, s.truncated, s.inputIds.length])).toEqual([
      ['ex1', true, maxLen],
      ['ex2', false, expect.any(Number)],
    ]);
    expect(right.samples[0].labels.length).toBe(maxLen);
    const drop = tokenizeSft([long, short], tk, { maxLen, truncation: 'drop' });
    expect(drop).toMatchObject({ truncated: 0, dropped: 1 });
    expect(drop.samples.map((s) => s.id)).toEqual(['ex2']);
    // a cut that leaves no assistant token drops the sample
    const promptOnly = tokenizeSft([long], tk, { maxLen: 8, truncation: 'right' });
    expect(promptOnly).toMatchObject({ samples: [], truncated: 0, dropped: 1 });
  });

  it('expands image placeholders from the grids, unlabelled, and never cuts an image', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: [{ type: 'image', image: '/img/a.png' }, { type: 'text', text: 'What is shown?' }] },
      { role: 'assistant', content: 'A chest film.' },
    ];
    const ex = example(messages, 3, ['/img/a.png']);
    const grid: [number, number, number] = [1, 4, 6];
    const out = tokenizeSft([ex], tk, { ...opts, imageGrid: () => grid });
    const [s] = out.samples;
    const pad = tk.tokenToId('<|image_pad|>')!;
    const padAt = Array.from(s.inputIds.keys()).filter((i) => s.inputIds[i] === pad);
    expect(padAt.length).toBe(6); // 1·4·6 / 2²
    expect(padAt.every((i) => s.labels[i] === IGNORE_INDEX)).toBe(true);
    expect(s.images).toEqual([{ path: '/img/a.png', grid }]);
    expect(labelledRuns(s)).toEqual(['A chest film.<|im_end|>']);
    // without grids the sample is reported; a cut inside the image drops it
    const noGrid = tokenizeSft([ex], tk, opts);
    expect(noGrid.issues).toEqual([{ file: 'train.jsonl', line: 3, message: expect.stringMatching(/1 image\(s\) but no image grids/) }]);
    const cut = tokenizeSft([ex], tk, { maxLen: padAt[2], truncation: 'right', imageGrid: () => grid });
    expect(cut).toMatchObject({ samples: [], dropped: 1 });
  });

  it('takes image grids from the Qwen2-VL processor, and reports an image it cannot decode', async () => {
    const images = ['test/fixtures/images/qwen/rgb_56.png', 'test/fixtures/images/qwen/wide_1500x40.png'];
    const junk = join(mkdtempSync(join(tmpdir(), 'mede2-img-')), 'junk.png');
    writeFileSync(junk, 'not an image');
    const ask = (path: string, line: number): SftExample =>
      example([{ role: 'user', content: [{ type: 'image', image: path }, { type: 'text', text: 'Findings?' }] }, { role: 'assistant', content: 'None.' }], line, [path]);
    const examples = [ask(images[0], 1), ask(images[1], 2), ask(junk, 3)];
    const processor = new Qwen2VLImageProcessor({ maxPixels: 28 * 28 * 16 });
    const gridOf = await imageGridLookup(examples, processor);
    for (const path of images) {
      const { imageGridThw } = await processor.preprocess(await decode(readFileSync(path)));
      expect(gridOf(path)).toEqual(imageGridThw[0]);
    }
    const out = tokenizeSft(examples, tk, { ...opts, imageGrid: gridOf });
    const pad = tk.tokenToId('<|image_pad|>')!;
    expect(out.samples.map((s) => s.inputIds.filter((id) => id === pad).length)).toEqual(images.map((p) => (gridOf(p)[1] * gridOf(p)[2]) / 4));
    expect(out.issues).toEqual([{ file: 'train.jsonl', line: 3, message: expect.stringMatching(/^image .*junk\.png: decode: unrecognized image format/) }]);
  });

  it('reports conversations the template cannot render incrementally', async () => {
    // the Qwen2 template adds a default system turn before a first non-system message, so
    // a conversation that opens with the assistant has no header prefix to find
    const opener = example([{ role: 'assistant', content: 'Hello!' }, { role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Yes?' }], 4);
    const out = tokenizeSft([opener], tk, opts);
    expect(out.samples).toEqual([]);
    expect(out.issues).toEqual([{ file: 'train.jsonl', line: 4, message: expect.stringMatching(/does not render this conversation incrementally at messages\[0\]/) }]);
    // a template whose output starts with the message count changes as the conversation grows
    const json = readFileSync(`${QWEN}/tokenizer.json`, 'utf8');
    const counting = await Tokenizer.fromJSON(json, { chatTemplate: '{{ messages|length }}{% for m in messages %}|{{ m.content }}{% endfor %}' });
    const ex = example([{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }], 5);
    expect(() => tokenizeSft([ex], counting, { ...opts, strict: true })).toThrow(DataError);
    expect(() => tokenizeSft([ex], counting, { ...opts, strict: true })).toThrow(/train\.jsonl:5: the chat template does not render/);
  });

  it('rejects a bad length policy', () => {
    expect(() => tokenizeSft([], tk, { maxLen: 0, truncation: 'right' })).toThrow(/maxLen must be a positive integer/);
    expect(() => tokenizeSft([], tk, { maxLen: 8, truncation: 'left' as never })).toThrow(/'right' or 'drop'/);
  });
});
