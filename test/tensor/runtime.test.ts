// The tensor runtime: scopes and memory, autograd bookkeeping, determinism, clear errors.
import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/tensor/runtime.js';
import { backward } from '../../src/tensor/autograd.js';
import { randomF32, testBackends } from '../helpers/backends.js';

const backends = await testBackends();

describe.each(backends)('runtime on $name', ({ name, backend }) => {
  const rt = new Runtime(backend);

  it('a scope releases its temporaries and keeps what it returns', async () => {
    const before = rt.memory().liveBytes;
    const kept = rt.scope(() => {
      const a = rt.tensor([1, 2, 3, 4], [2, 2]);
      const b = rt.ops.mul(a, a);
      rt.ops.add(b, a);
      return rt.ops.sum(b);
    });
    expect(await kept.item()).toBe(30);
    kept.release();
    expect(rt.memory().liveBytes).toBe(before);
  });

  it('backward accumulates gradients of a tensor used twice, and into .grad across calls', async () => {
    const x = rt.parameter([1, -2, 3], [3], 'x');
    for (let i = 0; i < 2; i++)
      rt.scope(() => {
        const y = rt.ops.sum(rt.ops.add(rt.ops.mul(x, x), x)); // d/dx = 2x + 1
        backward(y);
      });
    expect(Array.from(await x.grad!.f32())).toEqual([6, -6, 14]);
    x.grad!.release();
    x.release();
  });

  it('noGrad records nothing', () => {
    const x = rt.parameter([1, 2], [2]);
    const y = rt.noGrad(() => rt.ops.mul(x, x));
    expect(y.requiresGrad).toBe(false);
    expect(() => backward(rt.ops.sum(y))).toThrow(/does not require grad/);
    y.release();
    x.release();
  });

  it('the same program twice gives bit-identical results', async () => {
    const run = async () =>
      rt.scopeAsync(async () => {
        const a = rt.tensor(randomF32(33 * 65, 1), [33, 65]);
        const w = rt.parameter(randomF32(17 * 65, 2), [17, 65]);
        const loss = rt.ops.sum(rt.ops.softmax(rt.ops.linear(a, w)));
        backward(loss);
        const out = new Float32Array([...(await loss.f32()), ...(await w.grad!.f32())]);
        w.grad!.release();
        w.release();
        return out;
      });
    const [r1, r2] = [await run(), await run()];
    expect(Buffer.from(r1.buffer).equals(Buffer.from(r2.buffer))).toBe(true);
  });

  describe('bad input is a clear error', () => {
    it('mismatched shapes name the op and shapes', () => {
      rt.scope(() => {
        const a = rt.zeros([2, 3]);
        const b = rt.zeros([4, 5]);
        expect(() => rt.ops.matmul(a, b)).toThrow(/matmul: inner dimensions differ \(3 vs 4\) in f32\[2,3\] × f32\[4,5\]/);
        expect(() => rt.ops.add(a, b)).toThrow(/add: shapes \[2,3\] and \[4,5\] do not broadcast/);
        expect(() => rt.ops.reshape(a, [4])).toThrow(/reshape: cannot view f32\[2,3\] as \[4\]/);
      });
    });
    it('wrong dtype', () => {
      rt.scope(() => {
        const ids = rt.tensor([1, 2], [2], 'i32');
        expect(() => rt.ops.softmax(ids)).toThrow(/softmax: expected f32 input, got i32\[2\]/);
        const table = rt.zeros([3, 4]);
        expect(() => rt.ops.gatherRows(table, rt.tensor([0, 3], [2], 'i32'))).toThrow(/gatherRows: index 3 at position 1 is out of range \[0, 3\)/);
      });
    });
    it('use after release', async () => {
      const a = rt.tensor([1, 2], [2]);
      a.release();
      expect(() => rt.ops.exp(a)).toThrow(/exp: input f32\[2\] was released/);
      await expect(a.data()).rejects.toThrow(/was released/);
    });
    it('a buffer over the device limit', () => {
      const limit = backend.info.limits.maxBufferBytes;
      expect(() => rt.zeros([Math.ceil(limit / 4) + 1024])).toThrow(name === 'webgpu' ? /maxBufferSize/ : /address space/);
    });
  });
});
