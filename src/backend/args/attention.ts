// Argument checks for attention and rotary embeddings, shared by the WebGPU and wasm wrappers.
// cu_seqlens live on the device and cannot be checked here; their contract is in kernels.ts.
import { attentionGradScratchBytes, type AttentionArgs, type AttentionGradArgs, type RopeArgs } from '../kernels.js';
import type { Storage } from '../storage.js';
import { requireDims, requireElems } from './operands.js';

/** Largest head dim the attention kernels take (Qwen2.5-VL uses 128 in the LLM, 80 in the vision tower). */
export const MAX_HEAD_DIM = 128;

/** Outputs may not alias another operand: WebGPU cannot bind one buffer for reading and writing in a dispatch. */
function requireDistinct(label: string, outputs: Record<string, Storage>, inputs: Record<string, Storage>): void {
  const all = Object.entries({ ...inputs, ...outputs });
  for (const [out, s] of Object.entries(outputs))
    for (const [name, t] of all)
      if (name !== out && s === t) throw new Error(`${label}: output '${out}' is the same storage as '${name}'; write to a separate storage`);
}

function checkAttention(a: AttentionArgs): string {
  const label = `attention [tq ${a.tq}, tk ${a.tk}, heads ${a.hq}/${a.hkv}, d ${a.d}, ${a.nSeq} seq${a.causal ? ', causal' : ''}]`;
  requireDims(label, { tq: a.tq, tk: a.tk, hq: a.hq, hkv: a.hkv, d: a.d, nSeq: a.nSeq, maxSeqlenQ: a.maxSeqlenQ, maxSeqlenK: a.maxSeqlenK });
  if (a.hq < 1 || a.hkv < 1 || a.hq % a.hkv !== 0)
    throw new Error(`${label}: query heads (${a.hq}) must be a positive multiple of kv heads (${a.hkv})`);
  if (a.d < 4 || a.d > MAX_HEAD_DIM || a.d % 4 !== 0)
    throw new Error(`${label}: head dim ${a.d} is unsupported; it must be a multiple of 4 between 4 and ${MAX_HEAD_DIM}`);
  if (!Number.isFinite(a.scale)) throw new Error(`${label}: scale must be finite, got ${a.scale}`);
  if (a.maxSeqlenQ > a.tq || a.maxSeqlenK > a.tk)
    throw new Error(`${label}: maxSeqlenQ/K (${a.maxSeqlenQ}/${a.maxSeqlenK}) exceed the token counts (${a.tq}/${a.tk})`);
  requireElems(label, 'q', a.q, a.tq * a.hq * a.d, 'tq·hq·d');
  requireElems(label, 'k', a.k, a.tk * a.hkv * a.d, 'tk·hkv·d');
  requireElems(label, 'v', a.v, a.tk * a.hkv * a.d, 'tk·hkv·d');
  requireElems(label, 'out', a.out, a.tq * a.hq * a.d, 'tq·hq·d');
  requireElems(label, 'lse', a.lse, a.hq * a.tq, 'hq·tq');
  requireElems(label, 'cuSeqlensQ', a.cuSeqlensQ, a.nSeq + 1, 'nSeq + 1');
  requireElems(label, 'cuSeqlensK', a.cuSeqlensK, a.nSeq + 1, 'nSeq + 1');
  return label;
}

export function checkAttentionForward(a: AttentionArgs): string {
  const label = checkAttention(a);
  requireDistinct(label, { out: a.out, lse: a.lse }, { q: a.q, k: a.k, v: a.v, cuSeqlensQ: a.cuSeqlensQ, cuSeqlensK: a.cuSeqlensK });
  return label;
}

export function checkAttentionGrad(a: AttentionGradArgs): string {
  const label = `${checkAttention(a)} backward`;
  requireElems(label, 'gOut', a.gOut, a.tq * a.hq * a.d, 'tq·hq·d');
  requireElems(label, 'gq', a.gq, a.tq * a.hq * a.d, 'tq·hq·d');
  requireElems(label, 'gk', a.gk, a.tk * a.hkv * a.d, 'tk·hkv·d');
  requireElems(label, 'gv', a.gv, a.tk * a.hkv * a.d, 'tk·hkv·d');
  const need = attentionGradScratchBytes(a);
  if (a.scratch.bytes < need)
    throw new Error(`${label}: scratch holds ${a.scratch.bytes} bytes but needs attentionGradScratchBytes(args) = ${need}`);
  requireDistinct(
    label,
    { gq: a.gq, gk: a.gk, gv: a.gv, scratch: a.scratch },
    { q: a.q, k: a.k, v: a.v, out: a.out, lse: a.lse, gOut: a.gOut, cuSeqlensQ: a.cuSeqlensQ, cuSeqlensK: a.cuSeqlensK },
  );
  return label;
}

export function checkRope(a: RopeArgs): string {
  const label = `rope${a.inverse ? ' backward' : ''} [${a.t}, ${a.h}, ${a.d}]`;
  requireDims(label, { t: a.t, h: a.h, d: a.d });
  if (a.d % 2 !== 0) throw new Error(`${label}: head dim ${a.d} must be even (rotate_half splits it in two)`);
  requireElems(label, 'x', a.x, a.t * a.h * a.d, 't·h·d');
  requireElems(label, 'cos', a.cos, a.t * a.d, 't·d');
  requireElems(label, 'sin', a.sin, a.t * a.d, 't·d');
  requireElems(label, 'out', a.out, a.t * a.h * a.d, 't·h·d');
  requireDistinct(label, { out: a.out }, { x: a.x, cos: a.cos, sin: a.sin });
  return label;
}
