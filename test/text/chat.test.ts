import { readFileSync } from 'node:fs';
import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { Tokenizer, expandVisionPlaceholders, type ChatMessage } from '../../src/text/index.js';
import { FIXTURES } from './fixtures.js';

interface Render {
  messages: ChatMessage[];
  addGenerationPrompt: boolean;
  addVisionId: boolean;
  text: string;
  ids: number[];
}
const chat = JSON.parse(readFileSync(`${FIXTURES}/chat.json`, 'utf8')) as {
  template: string;
  renders: Render[];
  expansion: { text: string; grids: [number, number, number][]; mergeSize: number; ids: number[] };
};

describe('chat templates', () => {
  it('renders the Qwen2-VL template from tokenizer_config.json as transformers does, and tokenizes it identically', async () => {
    const tk = await Tokenizer.fromFile(`${FIXTURES}/qwen2`);
    for (const r of chat.renders) {
      const text = tk.applyChatTemplate(r.messages, { addGenerationPrompt: r.addGenerationPrompt, add_vision_id: r.addVisionId });
      expect(text).toBe(r.text);
      expect(Array.from(tk.encode(text, { addSpecialTokens: false }).ids)).toEqual(r.ids);
    }
  });

  it('prefers chat_template.jinja beside tokenizer.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mede2-tok-'));
    copyFileSync(`${FIXTURES}/qwen2/tokenizer.json`, join(dir, 'tokenizer.json'));
    copyFileSync(`${FIXTURES}/qwen2/tokenizer_config.json`, join(dir, 'tokenizer_config.json'));
    writeFileSync(join(dir, 'chat_template.jinja'), '{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}{{ eos_token }}');
    const tk = await Tokenizer.fromFile(dir);
    expect(tk.applyChatTemplate([{ role: 'user', content: 'hi' }])).toBe('[user] hi\n<|im_end|>');
  });

  it('says so when there is no template', async () => {
    const tk = await Tokenizer.fromFile(`${FIXTURES}/gpt2/tokenizer.json`);
    expect(() => tk.applyChatTemplate([{ role: 'user', content: 'hi' }])).toThrow(/no chat template/);
  });

  it('expands image placeholders to grid_t*grid_h*grid_w/merge² pads, as Qwen2VLProcessor does', async () => {
    const tk = await Tokenizer.fromFile(`${FIXTURES}/qwen2`);
    const e = chat.expansion;
    const text = expandVisionPlaceholders(e.text, e.grids, e.mergeSize);
    expect(Array.from(tk.encode(text, { addSpecialTokens: false }).ids)).toEqual(e.ids);
    const pad = tk.tokenToId('<|image_pad|>')!;
    const counts = e.grids.map(([t, h, w]) => (t * h * w) / (e.mergeSize * e.mergeSize));
    expect(e.ids.filter((id) => id === pad).length).toBe(counts.reduce((a, b) => a + b, 0));
  });

  it('rejects a grid count or shape that does not fit', () => {
    expect(() => expandVisionPlaceholders('<|image_pad|>', [])).toThrow(/1 '<\|image_pad\|>' placeholders but 0 grids/);
    expect(() => expandVisionPlaceholders('<|image_pad|>', [[1, 3, 3]])).toThrow(/multiple of merge_size/);
  });
});
