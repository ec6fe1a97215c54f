// Attention and rotary embeddings on wasm (assembly/kernels/attention.ts): the plain row-at-a-time
// reference. The backward needs no scratch; it still requires the contract's scratch size, so code
// written against wasm runs unchanged on WebGPU.
import type { AttentionArgs, AttentionGradArgs, RopeArgs } from '../../kernels.js';
import type { Storage } from '../../storage.js';
import { checkAttentionForward, checkAttentionGrad, checkRope } from '../../args/attention.js';
import type { WasmContext } from '../context.js';

interface AttentionExports {
  attentionFwd(
    q: number, k: number, v: number, cuQ: number, cuK: number, out: number, lse: number,
    nSeq: number, tq: number, hq: number, hkv: number, d: number, causal: boolean, scale: number,
  ): void;
  attentionBwd(
    q: number, k: number, v: number, out: number, lse: number, gOut: number, cuQ: number, cuK: number,
    gq: number, gk: number, gv: number,
    nSeq: number, tq: number, hq: number, hkv: number, d: number, causal: boolean, scale: number,
  ): void;
  rope(x: number, cos: number, sin: number, out: number, t: number, h: number, d: number, sign: number): void;
}

export function attention(ctx: WasmContext, a: AttentionArgs): void {
  const label = checkAttentionForward(a);
  const p = (s: Storage) => ctx.ptr(s, label);
  ctx.k<AttentionExports>().attentionFwd(
    p(a.q), p(a.k), p(a.v), p(a.cuSeqlensQ), p(a.cuSeqlensK), p(a.out), p(a.lse),
    a.nSeq, a.tq, a.hq, a.hkv, a.d, a.causal, a.scale,
  );
}

export function attentionGrad(ctx: WasmContext, a: AttentionGradArgs): void {
  const label = checkAttentionGrad(a);
  const p = (s: Storage) => ctx.ptr(s, label);
  ctx.k<AttentionExports>().attentionBwd(
    p(a.q), p(a.k), p(a.v), p(a.out), p(a.lse), p(a.gOut), p(a.cuSeqlensQ), p(a.cuSeqlensK),
    p(a.gq), p(a.gk), p(a.gv),
    a.nSeq, a.tq, a.hq, a.hkv, a.d, a.causal, a.scale,
  );
}

export function rope(ctx: WasmContext, a: RopeArgs): void {
  const label = checkRope(a);
  ctx.k<AttentionExports>().rope(ctx.ptr(a.x, label), ctx.ptr(a.cos, label), ctx.ptr(a.sin, label), ctx.ptr(a.out, label), a.t, a.h, a.d, a.inverse ? -1 : 1);
}
