// test/fixtures/attention/attention.json (tools/fixtures/attention.py, PyTorch 2.11 / transformers 5.17):
// float arrays are base64 little-endian f32, integer arrays plain lists.
import { readFileSync } from 'node:fs';

export const fixture = JSON.parse(readFileSync(new URL('../fixtures/attention/attention.json', import.meta.url), 'utf8'));

export function f32(b64: string): Float32Array {
  const bytes = Buffer.from(b64, 'base64');
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4).slice();
}
