// Cross-entropy fused with log-softmax: no [tokens × vocab] probability tensor is kept;
// the backward writes d(logits) once from the saved log-sum-exp.
import { record } from '../autograd.js';
import type { Tensor } from '../tensor.js';
import { f32Inputs } from './check.js';
import { scale, sum } from './arith.js';

export const IGNORE_INDEX = -100;

/** Throws, naming `op`, unless every label is in [0, vocab) or the ignore index. */
export function checkLabels(op: string, host: Int32Array, vocab: number, ignoreIndex: number): void {
  for (let i = 0; i < host.length; i++)
    if (host[i] !== ignoreIndex && (host[i] < 0 || host[i] >= vocab))
      throw new Error(`${op}: label ${host[i]} at position ${i} is outside the vocabulary [0, ${vocab}) and is not the ignore index ${ignoreIndex}`);
}

/** How many labels the loss counts (those that are not the ignore index): the mean's divisor. */
export function countLabelled(host: Int32Array, ignoreIndex: number): number {
  let n = 0;
  for (let i = 0; i < host.length; i++) if (host[i] !== ignoreIndex) n++;
  return n;
}

/** Per-token loss [rows] = logsumexp(logits) − logit[label] (0 where label = ignoreIndex); −loss is the token log-prob. */
export function tokenCrossEntropy(logits: Tensor, labels: Tensor, ignoreIndex = IGNORE_INDEX): Tensor {
  f32Inputs('crossEntropy', logits);
  if (logits.rank !== 2) throw new Error(`crossEntropy: logits must be [tokens, vocab], got ${logits.describe()}`);
  const [rows, vocab] = logits.shape;
  if (labels.size !== rows) throw new Error(`crossEntropy: ${labels.describe()} labels for ${rows} rows of logits ${logits.describe()}`);
  const host = labels.host;
  if (!host) throw new Error(`crossEntropy: labels ${labels.describe()} need a host copy; create them with rt.tensor(values, shape, 'i32')`);
  checkLabels('crossEntropy', host, vocab, ignoreIndex);
  const rt = logits.rt;
  const loss = rt.empty([rows], 'f32', 'crossEntropy');
  const lse = rt.empty([rows], 'f32', 'crossEntropy lse');
  if (rows) rt.backend.crossEntropy({ logits: logits.storage, labels: labels.storage, loss: loss.storage, lse: lse.storage, rows, vocab, ignoreIndex });
  return record(loss, 'crossEntropy', [logits, labels], (g) => {
    const gx = rt.empty(logits.shape, 'f32', 'crossEntropy backward');
    rt.backend.crossEntropyGrad({ logits: logits.storage, labels: labels.storage, lse: lse.storage, gLoss: g.storage, gx: gx.storage, rows, vocab, ignoreIndex });
    return [gx, null];
  });
}

/** Mean cross-entropy over labelled tokens (torch's F.cross_entropy with ignore_index, reduction='mean'). */
export function crossEntropy(logits: Tensor, labels: Tensor, ignoreIndex = IGNORE_INDEX): Tensor {
  // The intermediates are released early: no backward rule below reads their storage.
  const perToken = tokenCrossEntropy(logits, labels, ignoreIndex); // validates labels and their host copy
  const valid = countLabelled(labels.host!, ignoreIndex);
  const total = sum(perToken);
  perToken.release();
  const mean = scale(total, valid ? 1 / valid : NaN); // no labelled token: NaN, as torch
  total.release();
  return mean;
}
