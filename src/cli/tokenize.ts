// `mede2 tokenize`: JSON lines in, JSON lines out. Each input line is a JSON string and
// becomes {"ids":[…],"tokens":[…]}; with --decode each line is a JSON array of ids and
// becomes the decoded JSON string.
import { createInterface } from 'node:readline';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { parseCommandArgs } from './args.js';
import { Tokenizer } from '../text/index.js';

export const tokenize: Command = {
  name: 'tokenize',
  summary: 'encode JSON-string lines to ids/tokens, or decode id-array lines (stdin → stdout)',
  usage: [
    'usage: mede2 tokenize --tokenizer DIR_OR_FILE [--no-special] < strings.jsonl',
    '       mede2 tokenize --tokenizer DIR_OR_FILE --decode [--skip-special] < ids.jsonl',
    '',
    '  --tokenizer     a tokenizer.json, or a model directory holding one',
    '  --no-special    do not add the post-processor special tokens (e.g. BOS) when encoding',
    '  --decode        input lines are JSON arrays of ids; output lines are JSON strings',
    '  --skip-special  drop special tokens when decoding',
  ].join('\n'),
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      tokenizer: { type: 'string' },
      'no-special': { type: 'boolean' },
      decode: { type: 'boolean' },
      'skip-special': { type: 'boolean' },
    });
    if (!values.tokenizer) throw new UsageError('--tokenizer is required');
    if (values.decode && values['no-special']) throw new UsageError('--no-special applies to encoding; with --decode use --skip-special');
    if (!values.decode && values['skip-special']) throw new UsageError('--skip-special applies to --decode');
    const tk = await Tokenizer.fromFile(values.tokenizer);
    const out: string[] = [];
    const flush = () => {
      if (out.length) process.stdout.write(out.join('\n') + '\n');
      out.length = 0;
    };
    let lineNo = 0;
    for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
      lineNo++;
      if (!line.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (e) {
        throw new Error(`stdin line ${lineNo}: not JSON (${(e as Error).message})`);
      }
      if (values.decode) {
        if (!Array.isArray(value) || !value.every((x) => Number.isInteger(x) && x >= 0))
          throw new Error(`stdin line ${lineNo}: --decode expects a JSON array of non-negative integer ids`);
        out.push(JSON.stringify(tk.decode(value as number[], { skipSpecialTokens: values['skip-special'] })));
      } else {
        if (typeof value !== 'string') throw new Error(`stdin line ${lineNo}: expected a JSON string (use --decode for id arrays)`);
        const enc = tk.encode(value, { addSpecialTokens: !values['no-special'] });
        out.push(JSON.stringify({ ids: Array.from(enc.ids), tokens: enc.tokens }));
      }
      if (out.length >= 256) flush();
    }
    flush();
  },
};
