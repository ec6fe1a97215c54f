// The fused, row-chunked LM-head loss against the unfused crossEntropy(linear(h, w), labels)
// (itself checked against PyTorch in torch_parity.test.ts), on both backends: the same loss and
// gradients whatever the chunking, an f32 trainable or a packed bf16 frozen weight, the upstream
// gradient applied, NaN with no labelled token (as torch), a smaller peak, and clear errors.
//
// Tolerances (max |got − want| / max |want|): loss 1e-6, gradients 1e-5 (chunks sum dW in another
// order than one product; measured ≤ 3e-7 on lavapipe and wasm).
import { describe, expect, it } from 'vitest';
import { backward } from '../../src/tensor/autograd.js';
import { f32ToBf16Bits } from '../../src/tensor/dtype.js';
import { Runtime } from '../../src/tensor/runtime.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { maxRelError, randomF32, testBackends } from '../helpers/backends.js';

const LOSS_TOL = 1e-6;
const GRAD_TOL = 1e-5;
const backends = await testBackends();

const [T, H, V] = [13, 8, 37];
const hData = randomF32(T * H, 1, -2, 2);
const wData = randomF32(V * H, 2, -1, 1);
const labelData = Int32Array.from({ length: T }, (_, i) => (i % 5 === 2 ? -100 : (i * 7 + 3) % V));

describe.each(backends)('linearCrossEntropy on $name', ({ backend }) => {
  const rt = new Runtime(backend);
  const { ops } = rt;

  /** Loss and gradients of `upstream`·loss, unfused (chunk = null) or fused in chunks of `chunk` rows. */
  async function run(chunk: number | null, opts: { packed?: boolean; labels?: Int32Array; upstream?: number } = {}) {
    return rt.scopeAsync(async () => {
      const h = rt.tensor(hData, [T, H]);
      h.requiresGrad = true;
      let w: Tensor;
      if (opts.packed) w = rt.packed(Uint16Array.from(wData, f32ToBf16Bits), [V, H], 'bf16');
      else {
        w = rt.tensor(wData, [V, H]);
        w.requiresGrad = true;
      }
      const labels = rt.tensor(opts.labels ?? labelData, [T], 'i32');
      const loss = chunk === null ? ops.crossEntropy(ops.linear(h, w), labels) : ops.linearCrossEntropy(h, w, labels, { chunkRows: chunk });
      const value = await loss.item();
      backward(opts.upstream === undefined ? loss : ops.scale(loss, opts.upstream));
      const gh = await h.grad!.f32();
      const gw = w.requiresGrad ? await w.grad!.f32() : null;
      h.grad!.release();
      w.grad?.release();
      return { value, gh, gw };
    });
  }

  it.each([1, 4, 13, 100])('gives the unfused loss and gradients in chunks of %i rows', async (chunk) => {
    const want = await run(null);
    const got = await run(chunk);
    expect(Math.abs(got.value - want.value) / want.value).toBeLessThanOrEqual(LOSS_TOL);
    expect(maxRelError(got.gh, want.gh)).toBeLessThanOrEqual(GRAD_TOL);
    expect(maxRelError(got.gw!, want.gw!)).toBeLessThanOrEqual(GRAD_TOL);
  });

  it('applies the upstream gradient, and takes a packed bf16 frozen weight (no weight gradient)', async () => {
    const want = await run(null, { upstream: 3 });
    const got = await run(4, { upstream: 3 });
    expect(maxRelError(got.gh, want.gh)).toBeLessThanOrEqual(GRAD_TOL);
    expect(maxRelError(got.gw!, want.gw!)).toBeLessThanOrEqual(GRAD_TOL);
    const packedWant = await run(null, { packed: true });
    const packedGot = await run(5, { packed: true });
    expect(packedGot.gw).toBeNull();
    expect(Math.abs(packedGot.value - packedWant.value) / packedWant.value).toBeLessThanOrEqual(LOSS_TOL);
    expect(maxRelError(packedGot.gh, packedWant.gh)).toBeLessThanOrEqual(GRAD_TOL);
  });

  it('is NaN with no labelled token, as torch (and the unfused loss) is', async () => {
    const none = new Int32Array(T).fill(-100);
    expect((await run(null, { labels: none })).value).toBeNaN();
    expect((await run(4, { labels: none })).value).toBeNaN();
  });

  it('keeps one chunk of logits at a time: a lower peak than the unfused loss', async () => {
    const [rows, vocab, chunk] = [64, 4096, 8];
    const peak = async (fused: boolean) => {
      await rt.sync();
      backend.resetPeak();
      const base = rt.memory().liveBytes;
      await rt.scopeAsync(async () => {
        const h = rt.tensor(randomF32(rows * H, 3), [rows, H]);
        h.requiresGrad = true;
        const w = rt.tensor(randomF32(vocab * H, 4), [vocab, H]);
        w.requiresGrad = true;
        const labels = rt.tensor(Int32Array.from({ length: rows }, (_, i) => (i * 31) % vocab), [rows], 'i32');
        const loss = fused ? ops.linearCrossEntropy(h, w, labels, { chunkRows: chunk }) : ops.crossEntropy(ops.linear(h, w), labels);
        backward(loss);
        await loss.item();
      });
      return rt.memory().peakBytes - base;
    };
    const logitsBytes = rows * vocab * 4;
    const unfused = await peak(false);
    const fused = await peak(true);
    // Unfused keeps the logits and their gradient (2 × 1 MiB); fused one chunk of each (1/8 as
    // much) and dW early (128 KiB): at least 1.5 MiB less.
    expect(unfused - fused).toBeGreaterThanOrEqual(1.5 * logitsBytes - 2 * vocab * H * 4);
  });

  it('rejects mismatched shapes, bad labels and a bad chunk size, naming them', () => {
    rt.scope(() => {
      const h = rt.tensor(hData, [T, H]);
      const w = rt.tensor(wData, [V, H]);
      const labels = rt.tensor(labelData, [T], 'i32');
      expect(() => ops.linearCrossEntropy(h, rt.tensor(wData.subarray(0, V * 4), [V, 4]), labels)).toThrow(/linearCrossEntropy: need hidden \[tokens, H\] and weight \[vocab, H\]/);
      expect(() => ops.linearCrossEntropy(h, w, rt.tensor(labelData.subarray(1), [T - 1], 'i32'))).toThrow(/labels must be 13 i32 values/);
      const bad = Int32Array.from(labelData);
      bad[3] = V;
      expect(() => ops.linearCrossEntropy(h, w, rt.tensor(bad, [T], 'i32'))).toThrow(`label ${V} at position 3 is outside the vocabulary [0, ${V})`);
      expect(() => ops.linearCrossEntropy(h, w, labels, { chunkRows: 0 })).toThrow(/chunkRows must be a positive integer, got 0/);
    });
  });
});
