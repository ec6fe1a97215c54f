// Inverted dropout (torch.nn.functional.dropout in training mode): each element is zeroed with
// probability p and the survivors scaled by 1/(1−p), so the expectation is unchanged. The mask
// is drawn on the host from a seeded Rng — the same seed gives the same mask on every backend
// and in the browser — and the backward multiplies by that same mask.
import { record } from '../autograd.js';
import type { Tensor } from '../tensor.js';
import type { Rng } from '../../util/rng.js';
import { f32Inputs } from './check.js';
import { mul } from './arith.js';

/** The mask: 0 with probability p, else 1/(1−p); one rng draw per element, in row-major order. */
export function dropoutMask(n: number, p: number, rng: Rng): Float32Array {
  const keep = 1 / (1 - p);
  const mask = new Float32Array(n);
  for (let i = 0; i < n; i++) mask[i] = rng.next() < p ? 0 : keep;
  return mask;
}

/** x·mask with mask as above; p = 0 returns x itself (no draw), as the identity it is. */
export function dropout(x: Tensor, p: number, rng: Rng): Tensor {
  f32Inputs('dropout', x);
  if (!(p >= 0 && p < 1)) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
  if (p === 0) return x;
  const rt = x.rt;
  const mask = rt.tensor(dropoutMask(x.size, p, rng), x.shape);
  const out = rt.noGrad(() => mul(x, mask));
  return record(out, 'dropout', [x], (g) => [mul(g, mask)]);
}
