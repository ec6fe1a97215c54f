// Next-token choice from one row of logits: greedy (first maximum, as torch.argmax), or sampled
// at a temperature from the top-k tokens and then the smallest top-p prefix, in logit order (ties
// by id). Sampling ranks only as many tokens as it needs: an lm_head row has ~152k, and ranking
// them all with a comparator sort took tens of milliseconds a token.
import type { Rng } from '../../util/rng.js';

export interface SamplingOptions {
  /** 0 (default) is greedy. */
  temperature?: number;
  topK?: number;
  topP?: number;
}

export function pickToken(logits: Float32Array, o: SamplingOptions, rng: Rng): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  const temperature = o.temperature ?? 0;
  if (temperature <= 0) return best;
  const max = logits[best];
  const weight = (i: number) => Math.exp((logits[i] - max) / temperature);
  const ranked = new Ranking(logits);
  const k = o.topK && o.topK > 0 ? Math.min(o.topK, logits.length) : logits.length;

  // The candidates are the first `keep` ranked tokens, whose weights add to `mass`.
  let keep = k;
  let mass = 0;
  if (o.topP !== undefined && o.topP < 1) {
    // Mass of the top-k set: in rank order within it, over every token without top-k.
    let total = 0;
    if (k < logits.length) for (let r = 0; r < k; r++) total += weight(ranked.at(r));
    else for (let i = 0; i < logits.length; i++) total += weight(i);
    // The smallest prefix whose mass reaches top-p (always at least one token).
    keep = 0;
    while (keep < k && (keep === 0 || mass < o.topP * total)) mass += weight(ranked.at(keep++));
  } else if (k < logits.length) {
    for (let r = 0; r < k; r++) mass += weight(ranked.at(r));
  } else {
    for (let i = 0; i < logits.length; i++) mass += weight(i);
  }
  let u = rng.next() * mass;
  for (let r = 0; r < keep; r++) {
    const id = ranked.at(r);
    u -= weight(id);
    if (u <= 0) return id;
  }
  return ranked.at(keep - 1);
}

/**
 * Token ids in logit order (ties by id), ranked lazily: at(r) ranks the top 64 tokens, then 8×
 * as many each time a rank past them is asked for (quickselect finds each cut in linear time).
 */
class Ranking {
  private ids: number[] = [];
  private want = 64;

  constructor(private logits: Float32Array) {}

  at(r: number): number {
    while (r >= this.ids.length && this.ids.length < this.logits.length) this.widen();
    return this.ids[r];
  }

  private widen(): void {
    const l = this.logits;
    const all = this.want >= l.length;
    const cut = all ? -Infinity : kthLargest(l, this.want);
    const ids: number[] = [];
    for (let i = 0; i < l.length; i++) if (all || l[i] >= cut) ids.push(i);
    ids.sort((a, b) => l[b] - l[a] || a - b);
    this.ids = ids;
    this.want *= 8;
  }
}

/** The k-th largest of `values` (1 ≤ k ≤ length; NaN counts as −∞), by Hoare quickselect on a copy. */
function kthLargest(values: Float32Array, k: number): number {
  const a = new Float32Array(values); // (Float32Array.from with a map function took 15 ms here)
  for (let i = 0; i < a.length; i++) if (a[i] !== a[i]) a[i] = -Infinity;
  const target = k - 1;
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i++] = a[j];
        a[j--] = t;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  return a[target];
}
