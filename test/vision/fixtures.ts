// Reads test/fixtures/images/ (made by tools/fixtures/images.py with PIL, transformers and numpy).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(__dirname, '../fixtures/images');

export const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));

export function fixture(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(join(dir, rel)));
}

export function fixtureF32(rel: string): Float32Array {
  const b = fixture(rel);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

/** Count of differing bytes and the largest difference, for readable failures. */
export function diff(a: Uint8Array, b: Uint8Array): { count: number; max: number } {
  let count = 0;
  let max = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d) count++;
    max = Math.max(max, d);
  }
  return { count: count + Math.abs(a.length - b.length), max };
}
