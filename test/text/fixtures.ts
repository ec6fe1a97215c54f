// The reference data of tools/fixtures/tokenizer.py (Rust `tokenizers` through Python).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export const FIXTURES = 'test/fixtures/tokenizer';
export const STYLES = ['qwen2', 'llama3', 'gpt2', 'smollm', 'bytefallback'] as const;

export interface Case {
  ids: number[];
  plain: number[];
  /** Python char (code point) offsets. */
  offsets: [number, number][];
  decoded: string;
  decodedSkip: string;
}

export interface LongCase {
  count: number;
  sha256: string;
  head: number[];
  tail: number[];
  roundTrip: boolean;
}

function gz<T>(name: string): T {
  return JSON.parse(gunzipSync(readFileSync(`${FIXTURES}/${name}`)).toString('utf8')) as T;
}

export const strings = gz<{ strings: string[]; long: string[] }>('strings.json.gz');
export const cases = gz<{ tokenizers: string; results: Record<string, { cases: Case[]; long: LongCase[] }> }>('cases.json.gz');

/** Python code point offsets → UTF-16 code unit offsets of the same string. */
export function toUtf16Offsets(text: string, offsets: [number, number][]): [number, number][] {
  const unitAt: number[] = [];
  let u = 0;
  for (const ch of text) {
    unitAt.push(u);
    u += ch.length;
  }
  unitAt.push(u);
  return offsets.map(([s, e]) => [unitAt[s], unitAt[e]]);
}
