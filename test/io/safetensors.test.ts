import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensors, readSafetensorsHeader, tensorArray, writeSafetensors, type SafetensorsDtype, type TensorToWrite } from '../../src/io/safetensors.js';

const dir = join(__dirname, '../fixtures/images');
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).safetensors as {
  file: string;
  metadata: Record<string, string>;
  tensors: Record<string, { dtype: SafetensorsDtype; shape: number[]; hex: string }>;
};
const reference = new Uint8Array(readFileSync(join(dir, manifest.file)));
/** Elements as a plain list (numbers, or bigints for 64-bit integers). */
const list = (t: Parameters<typeof tensorArray>[0]) => Array.from(tensorArray(t) as ArrayLike<number | bigint>);
const hex = (s: string) => new Uint8Array((s.match(/../g) ?? []).map((h) => parseInt(h, 16)));

/** A file with a hand-written header, for the malformed cases. */
function file(header: string, dataBytes: number, headerLength = header.length): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(h, 8);
  return out;
}

describe('safetensors reader', () => {
  it('reads a file written by the safetensors library (F32, F16, BF16, I32, I64, U8, F64, scalar, empty)', () => {
    const { metadata, tensors } = readSafetensors(reference);
    expect(metadata).toEqual(manifest.metadata);
    expect([...tensors.keys()].sort()).toEqual(Object.keys(manifest.tensors).sort());
    for (const [name, want] of Object.entries(manifest.tensors)) {
      const t = tensors.get(name)!;
      expect([t.dtype, t.shape]).toEqual([want.dtype, want.shape]);
      expect(t.data).toEqual(hex(want.hex));
    }
    expect(list(tensors.get('d.i32')!)).toEqual([1, -2, 3, 2 ** 31 - 1]);
    expect(list(tensors.get('e.i64')!)).toEqual([-(2n ** 40n), 7n]);
    expect(list(tensors.get('f.u8')!)).toEqual([0, 255, 17]);
    expect(list(tensors.get('g.scalar')!)).toEqual([3.5]);
    expect(tensorArray(tensors.get('h.empty')!).length).toBe(0);
    expect(tensorArray(tensors.get('i.f64')!)[0]).toBe(1 / 3);
  });

  it('reads the header from a prefix of the file', () => {
    const n = Number(new DataView(reference.buffer, reference.byteOffset).getBigUint64(0, true));
    const h = readSafetensorsHeader(reference.subarray(0, 8 + n), reference.length);
    expect(h.dataOffset).toBe(8 + n);
    expect(h.tensors.get('a.weight')).toMatchObject({ dtype: 'F32', shape: [2, 3] });
    expect(() => readSafetensorsHeader(reference.subarray(0, 20), reference.length)).toThrow(/need the first \d+ bytes/);
  });

  const ok = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
  it.each([
    ['a 5-byte file', new Uint8Array(5), /5 bytes, too short for the 8-byte header length/],
    ['a header length past the end', file(ok, 8, 4096), /header length 4096 runs past the end/],
    ['a header length over 100 MB', file(ok, 8, 200_000_000), /over the 100000000-byte limit/],
    ['a header that is not an object', file('[1,2]', 0), /does not start with '\{'/],
    ['broken JSON', file('{"a":', 0), /not valid JSON/],
    ['an unknown dtype', file('{"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}', 8), /tensor 'a': unknown dtype "Q4"/],
    ['a bad shape', file('{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}', 8), /shape \[-2\] is not a list of non-negative integers/],
    ['a size mismatch', file('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', 8), /span 8 bytes, but F32 of shape \[3\] needs 12/],
    ['truncated data', file(ok, 4), /truncated: the tensors need 8 bytes of data, the file has 4/],
    ['trailing bytes', file(ok, 12), /4 bytes after the last tensor belong to no tensor/],
    ['overlapping tensors', file('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}', 8), /'a' and 'b' overlap/],
    ['a gap', file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8), /bytes 0\.\.4 of the data section belong to no tensor/],
    ['reversed offsets', file('{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}', 8), /must be \[begin, end\]/],
    ['non-string metadata', file('{"__metadata__":{"x":1}}', 0), /__metadata__\.x must be a string/],
  ])('rejects %s', (_, bytes, message) => {
    expect(() => readSafetensors(bytes)).toThrow(message);
  });
});

describe('safetensors writer', () => {
  it('writes byte for byte what the safetensors library writes', () => {
    const tensors: Record<string, TensorToWrite> = {};
    for (const [name, t] of Object.entries(manifest.tensors)) tensors[name] = { dtype: t.dtype, shape: t.shape, data: hex(t.hex) };
    expect(writeSafetensors(tensors, manifest.metadata)).toEqual(reference);
  });

  it('round-trips, pads the header to 8 bytes and orders by alignment then name', () => {
    const bytes = writeSafetensors(
      new Map<string, TensorToWrite>([
        ['z', { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) }],
        ['0', { dtype: 'F32', shape: [1, 2], data: new Float32Array([1.5, -2]) }],
        ['b', { dtype: 'I64', shape: [1], data: new BigInt64Array([-5n]) }],
      ]),
      { z: 'last', a: 'first' },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.trimEnd()).toBe(
      '{"__metadata__":{"a":"first","z":"last"},"b":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},' +
        '"0":{"dtype":"F32","shape":[1,2],"data_offsets":[8,16]},"z":{"dtype":"U8","shape":[3],"data_offsets":[16,19]}}',
    );
    const { metadata, tensors } = readSafetensors(bytes);
    expect(metadata).toEqual({ a: 'first', z: 'last' });
    expect(list(tensors.get('0')!)).toEqual([1.5, -2]);
    expect(list(tensors.get('b')!)).toEqual([-5n]);
    expect(Array.from(tensors.get('z')!.data)).toEqual([1, 2, 3]);
  });

  it('rejects data that does not match the shape, unknown dtypes and a tensor named __metadata__', () => {
    expect(() => writeSafetensors({ a: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).toThrow(/data has 8 bytes, F32 of shape \[3\] needs 12/);
    expect(() => writeSafetensors({ a: { dtype: 'F12' as SafetensorsDtype, shape: [1], data: new Uint8Array(2) } })).toThrow(/unknown dtype "F12"/);
    expect(() => writeSafetensors({ __metadata__: { dtype: 'U8', shape: [0], data: new Uint8Array(0) } })).toThrow(/cannot be named '__metadata__'/);
  });
});
