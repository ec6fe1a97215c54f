import { it } from 'vitest';
import { attentionGradScratchBytes } from '../../src/backend/kernels.js';
import { testBackends } from '../helpers/backends.js';
import { StorageScope } from '../helpers/scope.js';
const backends = await testBackends();
it('dbg', async () => {
  const backend = backends[1].backend;
  const L = 8, d = Number(process.env.D ?? 32);
  const sc = new StorageScope(backend);
  const cu = sc.input(Int32Array.from([0, L]));
  const args = { q: sc.output(L * d), k: sc.output(L * d), v: sc.output(L * d), out: sc.output(L * d), lse: sc.output(L), cuSeqlensQ: cu, cuSeqlensK: cu, nSeq: 1, maxSeqlenQ: L, maxSeqlenK: L, tq: L, tk: L, hq: 1, hkv: 1, d, causal: true, scale: 1 };
  let t = performance.now();
  backend.attention(args); await backend.sync();
  console.log('fwd', (performance.now() - t).toFixed(0)); t = performance.now();
  backend.attentionGrad({ ...args, gOut: sc.output(L * d), gq: sc.output(L * d), gk: sc.output(L * d), gv: sc.output(L * d), scratch: sc.output(attentionGradScratchBytes(args) / 4) }); await backend.sync();
  console.log('bwd', (performance.now() - t).toFixed(0));
});
