import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as esbuild from 'esbuild';
import '../../src/node.js';
import { Tokenizer } from '../../src/text/index.js';
import { FIXTURES } from './fixtures.js';

let cli = '';
beforeAll(async () => {
  cli = join(mkdtempSync(join(tmpdir(), 'mede2-cli-')), 'cli.mjs');
  await esbuild.build({
    entryPoints: ['src/cli/main.ts'],
    bundle: true,
    format: 'esm',
    platform: 'node',
    outfile: cli,
    external: ['webgpu'],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'error',
  });
});

function run(args: string[], input: string) {
  const r = spawnSync(process.execPath, [cli, 'tokenize', ...args], { input, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('mede2 tokenize', () => {
  const dir = `${FIXTURES}/llama3`;
  const texts = ['Hello world', '', 'The patient\'s BP was 150/95.\r\n日本語 👍🏽'];

  it('encodes JSON-string lines to ids and tokens, with and without special tokens', async () => {
    const tk = await Tokenizer.fromFile(dir);
    const input = texts.map((t) => JSON.stringify(t)).join('\n') + '\n';
    for (const noSpecial of [false, true]) {
      const r = run(['--tokenizer', dir, ...(noSpecial ? ['--no-special'] : [])], input);
      expect(r.err).toBe('');
      const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
      expect(lines).toEqual(texts.map((t) => {
        const e = tk.encode(t, { addSpecialTokens: !noSpecial });
        return { ids: Array.from(e.ids), tokens: e.tokens };
      }));
    }
  });

  it('decodes id-array lines, optionally skipping special tokens', async () => {
    const tk = await Tokenizer.fromFile(dir);
    const ids = texts.map((t) => Array.from(tk.encode(t).ids));
    const input = ids.map((x) => JSON.stringify(x)).join('\n');
    expect(run(['--tokenizer', dir, '--decode'], input).out.trim().split('\n').map((l) => JSON.parse(l))).toEqual(
      texts.map((t) => '<|begin_of_text|>' + t),
    );
    expect(run(['--tokenizer', dir, '--decode', '--skip-special'], input).out.trim().split('\n').map((l) => JSON.parse(l))).toEqual(texts);
  });

  it('reports bad input with its line number, and usage errors', () => {
    const bad = run(['--tokenizer', dir], '"ok"\n[1, 2]\n');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/stdin line 2: expected a JSON string/);
    const usage = run([], '');
    expect(usage.code).toBe(2);
    expect(usage.err).toMatch(/--tokenizer is required/);
  });
});
