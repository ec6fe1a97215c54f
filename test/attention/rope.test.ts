// The rope kernel on both backends against the float64 reference: M-RoPE tables at head dim 128
// over 600 tokens; inverse = the backward for half-repeating tables
// (checked as the adjoint: ⟨rope(x), y⟩ = ⟨x, rope⁻(y)⟩); bad arguments named.
import { describe, expect, it } from 'vitest';
import { mropeTables } from '../../src/nn/rope.js';
import { downloadF32, maxRelError, randomF32, testBackends } from '../helpers/backends.js';
import { StorageScope } from '../helpers/scope.js';
import { ropeRef } from './reference.js';

const backends = await testBackends();

describe.each(backends)('rope kernel on $name', ({ backend }) => {
  const [t, h, d] = [600, 4, 128];
  const pos = (a: number) => Int32Array.from({ length: t }, (_, i) => (i < 100 ? i : 100 + ((i * (a + 1)) % 37)));
  const tables = mropeTables([pos(0), pos(1), pos(2)], d, 1e6, [16, 24, 24]);

  it('forward matches rotate-half with M-RoPE tables', async () => {
    const x = randomF32(t * h * d, 1);
    const sc = new StorageScope(backend);
    const out = sc.output(x.length);
    backend.rope({ x: sc.input(x), cos: sc.input(tables.cos), sin: sc.input(tables.sin), out, t, h, d, inverse: false });
    expect(maxRelError(await downloadF32(backend, out, x.length), ropeRef(x, tables.cos, tables.sin, t, h, d))).toBeLessThanOrEqual(1e-6);
    sc.free();
  });

  it('inverse is the adjoint (the backward)', async () => {
    const x = randomF32(t * h * d, 2);
    const y = randomF32(t * h * d, 3);
    const sc = new StorageScope(backend);
    const [fx, gy] = [sc.output(x.length), sc.output(y.length)];
    const [cos, sin] = [sc.input(tables.cos), sc.input(tables.sin)];
    backend.rope({ x: sc.input(x), cos, sin, out: fx, t, h, d, inverse: false });
    backend.rope({ x: sc.input(y), cos, sin, out: gy, t, h, d, inverse: true });
    const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);
    const lhs = dot(await downloadF32(backend, fx, x.length), y);
    const rhs = dot(x, await downloadF32(backend, gy, y.length));
    expect(Math.abs(lhs - rhs) / Math.abs(lhs)).toBeLessThan(1e-5);
    sc.free();
  });

  it('rejects an odd head dim and an output aliasing x', () => {
    const sc = new StorageScope(backend);
    const s = sc.output(64);
    expect(() => backend.rope({ x: s, cos: s, sin: s, out: sc.output(64), t: 2, h: 1, d: 5, inverse: false })).toThrow(/head dim 5 must be even/);
    expect(() => backend.rope({ x: s, cos: sc.output(8), sin: sc.output(8), out: s, t: 2, h: 1, d: 4, inverse: false })).toThrow(/output 'out' is the same storage as 'x'/);
    sc.free();
  });
});
