import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { DataError, parseSftJsonl, readSftJsonl } from '../../src/train/data/index.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'mede2-data-'));
}

const good = {
  messages: JSON.stringify({ id: 'm1', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Q?' }, { role: 'assistant', content: 'A.' }] }),
  question: JSON.stringify({ id: 7, question: 'Which bone?', options: ['Femur', 'Tibia'], reasoning: 'It is long.', answer: 'A' }),
};

describe('SFT JSONL reading', () => {
  it('reports every bad line with file:line and keeps the good ones', async () => {
    const lines = [
      good.messages, // 1
      '{"messages": [', // 2 invalid JSON
      '', // 3 blank: skipped silently
      JSON.stringify({ question: 'Why?', answer: 'B' }), // 4 missing reasoning
      JSON.stringify({ question: 'Why?', reasoning: 3, answer: 'B' }), // 5 wrong type
      JSON.stringify({ messages: [{ role: 'tool', content: 'x' }, { role: 'assistant', content: 'y' }] }), // 6 unknown role
      JSON.stringify({ messages: [{ role: 'user', content: [{ type: 'image', image: 'scans/missing.png' }, { type: 'text', text: 'What is it?' }] }, { role: 'assistant', content: 'ok' }] }), // 7 image missing
      '[1, 2]', // 8 not an object
      JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }), // 9 no assistant
      JSON.stringify({ messages: [{ role: 'user', content: [{ type: 'video', video: 'v.mp4' }] }, { role: 'assistant', content: 'y' }] }), // 10 unknown item type
      JSON.stringify({ messages: [], question: 'q' }), // 11 both forms
      JSON.stringify({ text: 'hello' }), // 12 neither form
      JSON.stringify({ id: ['x'], question: 'q', reasoning: '', answer: 'a' }), // 13 bad id
      good.question, // 14
    ];
    const data = await parseSftJsonl('/data/train.jsonl', lines.join('\n') + '\n');
    expect(data.examples.map((e) => [e.id, e.line])).toEqual([
      ['m1', 1],
      ['7', 14],
    ]);
    const where = data.issues.map((i) => `${i.file}:${i.line}`);
    expect(where).toEqual([2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13].map((l) => `/data/train.jsonl:${l}`));
    const msg = Object.fromEntries(data.issues.map((i) => [i.line, i.message]));
    expect(msg[2]).toMatch(/^invalid JSON/);
    expect(msg[4]).toBe("missing field 'reasoning'");
    expect(msg[5]).toBe("'reasoning' must be a string, got number");
    expect(msg[6]).toBe('messages[0].role "tool" is not one of system, user, assistant');
    expect(msg[7]).toBe('image file not found: /data/scans/missing.png (relative paths are resolved beside the JSONL file)');
    expect(msg[8]).toBe('expected a JSON object, got an array');
    expect(msg[9]).toMatch(/no assistant message/);
    expect(msg[10]).toMatch(/messages\[0\]\.content\[0\]\.type "video" is not supported/);
    expect(msg[11]).toMatch(/both 'messages' and 'question'/);
    expect(msg[12]).toMatch(/neither 'messages' nor 'question'/);
    expect(msg[13]).toBe("'id' must be a string or a number, got an array");
  });

  it('stops at the first bad line in strict mode', async () => {
    const text = [good.messages, good.question, '{oops', JSON.stringify({ question: 'x' })].join('\n');
    const err = await parseSftJsonl('t.jsonl', text, { strict: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).issue).toMatchObject({ file: 't.jsonl', line: 3 });
    expect((err as Error).message).toMatch(/^t\.jsonl:3: invalid JSON/);
  });

  it('renders {question, options, reasoning, answer} with lettered options and the response template', async () => {
    const obj = JSON.stringify({ question: 'Pick one.', options: { X: 'first', Y: 'second' }, reasoning: 'r', answer: 'Y' });
    const plain = JSON.stringify({ question: 'No options?', reasoning: 'because', answer: 'yes' });
    const data = await parseSftJsonl('q.jsonl', [good.question, obj, plain].join('\r\n'));
    expect(data.issues).toEqual([]);
    expect(data.examples.map((e) => e.messages)).toEqual([
      [
        { role: 'user', content: 'Which bone?\nA. Femur\nB. Tibia' },
        { role: 'assistant', content: '<think>It is long.</think>\n<answer>A</answer>' },
      ],
      [
        { role: 'user', content: 'Pick one.\nX. first\nY. second' },
        { role: 'assistant', content: '<think>r</think>\n<answer>Y</answer>' },
      ],
      [
        { role: 'user', content: 'No options?' },
        { role: 'assistant', content: '<think>because</think>\n<answer>yes</answer>' },
      ],
    ]);
    const custom = await parseSftJsonl('q.jsonl', plain, { responseTemplate: 'Reasoning: {reasoning}\nAnswer: {answer} {other}' });
    expect(custom.examples[0].messages[1].content).toBe('Reasoning: because\nAnswer: yes {other}');
    await expect(parseSftJsonl('q.jsonl', plain, { responseTemplate: '{reasoning}' })).rejects.toThrow(/no \{answer\} placeholder/);
  });

  it('resolves image paths beside the JSONL file and checks they exist', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'img'));
    writeFileSync(join(dir, 'img', 'a.png'), 'png');
    writeFileSync(join(dir, 'b.png'), 'png');
    const rec = (image: string) =>
      JSON.stringify({ messages: [{ role: 'user', content: [{ type: 'image', image }, { type: 'text', text: 'Describe.' }] }, { role: 'assistant', content: 'A scan.' }] });
    const file = join(dir, 'train.jsonl');
    writeFileSync(file, [rec('img/a.png'), rec(`file://${join(dir, 'b.png')}`), rec(join(dir, 'img', 'a.png')), rec('img/none.png'), rec('https://x.org/a.png')].join('\n'));
    const data = await readSftJsonl(file);
    expect(data.examples.map((e) => e.images)).toEqual([[join(dir, 'img/a.png')], [join(dir, 'b.png')], [join(dir, 'img/a.png')]]);
    expect(data.examples[0].messages[0].content).toEqual([
      { type: 'image', image: join(dir, 'img/a.png') },
      { type: 'text', text: 'Describe.' },
    ]);
    expect(data.issues.map((i) => [i.line, i.message])).toEqual([
      [4, `image file not found: ${join(dir, 'img/none.png')} (relative paths are resolved beside the JSONL file)`],
      [5, expect.stringMatching(/is a URL .*only local image files are supported/)],
    ]);
  });

  it('takes bytes and an image check from the caller (browser File objects)', async () => {
    const rec = JSON.stringify({ messages: [{ role: 'user', content: [{ type: 'image', image: 'x.png' }] }, { role: 'assistant', content: 'ok' }] });
    const bytes = new TextEncoder().encode(`${rec}\n${rec.replace('x.png', 'y.png')}\n`);
    const data = await parseSftJsonl('upload.jsonl', bytes, { imageExists: async (p) => p === 'x.png' });
    expect(data.examples.map((e) => e.images)).toEqual([['x.png']]);
    expect(data.issues).toEqual([{ file: 'upload.jsonl', line: 2, message: expect.stringContaining('not found: y.png') }]);
  });

  it('reports a line that is not UTF-8, and reads past a BOM', async () => {
    const enc = new TextEncoder();
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...enc.encode(good.messages + '\n'), 0x7b, 0xff, 0xfe, 0x7d, 0x0a, ...enc.encode(good.question)]);
    const data = await parseSftJsonl('bin.jsonl', bytes);
    expect(data.examples.map((e) => e.line)).toEqual([1, 3]);
    expect(data.issues).toEqual([{ file: 'bin.jsonl', line: 2, message: 'not valid UTF-8' }]);
  });

  it('says which file it cannot read', async () => {
    await expect(readSftJsonl(join(tempDir(), 'nope.jsonl'))).rejects.toThrow(/cannot read the data file .*nope\.jsonl/);
  });
});
