// Attention memory is linear in the sequence length: the peak over a forward and backward (outputs,
// gradients and scratch included) for 4096 tokens is about twice that for 2048, and far below one
// [T × T] score matrix. On WebGPU the backward may hold dS within a fixed budget (stored-scores
// mode): the linear bound holds with the budget at 0, and with it the peak grows by that dS at
// most. One head of 32 dims keeps lavapipe quick.
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.js';
import { attentionGradScratchBytes, type AttentionArgs } from '../../src/backend/kernels.js';
import { randomF32, testBackends } from '../helpers/backends.js';
import { StorageScope } from '../helpers/scope.js';
import { COMPILE_TIMEOUT } from './timeout.js';
import { sizeClass } from '../../src/backend/webgpu/pool.js';
import { DEFAULT_STORED_SCORES_BUDGET, setStoredScoresBudget, storedScoreLayout } from '../../src/backend/webgpu/kernels/attention.js';

const backends = await testBackends();

/** Peak bytes of a causal forward + backward over one sequence of `t` tokens, counted from its inputs. */
async function peak(backend: Backend, t: number): Promise<number> {
  const d = 32;
  const sc = new StorageScope(backend);
  const cu = sc.input(Int32Array.from([0, t]));  // one storage for queries and keys: the causal-square layout
  const x = () => sc.input(randomF32(t * d, t));
  const inputs = { q: x(), k: x(), v: x(), gOut: x() };
  backend.resetPeak();
  const args: AttentionArgs = {
    ...inputs, out: sc.output(t * d), lse: sc.output(t), cuSeqlensQ: cu, cuSeqlensK: cu,
    nSeq: 1, maxSeqlenQ: t, maxSeqlenK: t, tq: t, tk: t, hq: 1, hkv: 1, d, causal: true, scale: 1 / Math.sqrt(d),
  };
  backend.attention(args);
  backend.attentionGrad({ ...args, gOut: inputs.gOut, gq: sc.output(t * d), gk: sc.output(t * d), gv: sc.output(t * d), scratch: sc.output(attentionGradScratchBytes(args) / 4) });
  await backend.sync();
  const bytes = backend.memory().peakBytes;
  sc.free();
  return bytes;
}

describe.each(backends)('attention memory on $name', COMPILE_TIMEOUT, ({ name, backend }) => {
  it('peak memory for 4096 tokens is ~2× that for 2048 (linear, not quadratic)', async () => {
    setStoredScoresBudget(0);
    try {
      const small = await peak(backend, 2048);
      const large = await peak(backend, 4096);
      expect(large / small).toBeGreaterThan(1.8);
      expect(large / small).toBeLessThan(2.2);
      expect(large).toBeLessThan(4096 * 4096 * 4);
    } finally {
      setStoredScoresBudget(DEFAULT_STORED_SCORES_BUDGET);
    }
  });

  it.runIf(name === 'webgpu')('stored dS adds at most its own bytes, and none past the budget', async () => {
    const t = 2048;
    const ds = storedScoreLayout({ nSeq: 1, maxSeqlenQ: t, maxSeqlenK: t }, true).headBytes;
    const withBudget = async (bytes: number) => {
      setStoredScoresBudget(bytes);
      try {
        return await peak(backend, t);
      } finally {
        setStoredScoresBudget(DEFAULT_STORED_SCORES_BUDGET);
      }
    };
    const linear = await withBudget(0);
    const under = await withBudget(ds - 1);
    const stored = await withBudget(DEFAULT_STORED_SCORES_BUDGET);
    expect(under).toBe(linear);
    expect(stored).toBeGreaterThan(linear);
    expect(stored).toBeLessThanOrEqual(linear + sizeClass(ds));  // the pool rounds buffers up to a size class
  });
});
