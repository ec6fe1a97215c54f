// Optimizer kernels (reference for shaders/optim.wgsl): f32 math, f64 accumulators.

@inline function at(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

/** out[slot + p] = Σ x[i]² over chunk p of `chunk` elements (see src/backend/kernels.ts), each accumulated in f64 in index order. */
export function sumSquares(x: usize, n: i32, out: usize, slot: i32, chunk: i32): void {
  let p = slot;
  let start = 0;
  do {
    const end = min(n, start + chunk);
    let s: f64 = 0;
    for (let i = start; i < end; i++) {
      const v = <f64>load<f32>(at(x, i));
      s += v * v;
    }
    store<f32>(at(out, p++), <f32>s);
    start = end;
  } while (start < n);
}

/** norm = √(Σ sumsq); out[0] = min(1, maxNorm / (norm + 1e-6)) (1 when maxNorm ≤ 0), out[1] = norm. */
export function clipScale(sumsq: usize, count: i32, maxNorm: f32, out: usize): void {
  let s: f64 = 0;
  for (let i = 0; i < count; i++) s += <f64>load<f32>(at(sumsq, i));
  const norm = Mathf.sqrt(<f32>s);
  store<f32>(out, maxNorm > 0 ? Mathf.min(1, maxNorm / (norm + 1e-6)) : 1);
  store<f32>(at(out, 1), norm);
}

/**
 * torch.optim.AdamW on n elements (the scalars come from the host, see
 * src/backend/args/optim.ts): g = grad·scale[0]; p ← p·decay; m ← lerp(m, g, w1);
 * v ← v·β2 + w2·g·g; p ← p − stepSize·(m / (√v / bc2Sqrt + eps)). SIMD body and scalar
 * tail do the same operations in the same order (no fused multiply-add), so they agree.
 */
export function adamw(
  param: usize, grad: usize, m: usize, v: usize, scale: usize, n: i32,
  decay: f32, w1: f32, beta2: f32, w2: f32, stepSize: f32, bc2Sqrt: f32, eps: f32,
): void {
  // torch's lerp: a + w·(b − a) for |w| < 0.5, else b − (b − a)·(1 − w).
  const smallW = Mathf.abs(w1) < 0.5;
  const lerpW: f32 = smallW ? w1 : 1 - w1;
  const sc = load<f32>(scale);
  const vSc = f32x4.splat(sc), vDecay = f32x4.splat(decay), vLerpW = f32x4.splat(lerpW), vBeta2 = f32x4.splat(beta2);
  const vW2 = f32x4.splat(w2), vStep = f32x4.splat(stepSize), vBc2 = f32x4.splat(bc2Sqrt), vEps = f32x4.splat(eps);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const g = f32x4.mul(v128.load(at(grad, i)), vSc);
    const p = f32x4.mul(v128.load(at(param, i)), vDecay);
    const m0 = v128.load(at(m, i));
    const mi = smallW ? f32x4.add(m0, f32x4.mul(vLerpW, f32x4.sub(g, m0))) : f32x4.sub(g, f32x4.mul(f32x4.sub(g, m0), vLerpW));
    const vi = f32x4.add(f32x4.mul(v128.load(at(v, i)), vBeta2), f32x4.mul(f32x4.mul(vW2, g), g));
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(vi), vBc2), vEps);
    v128.store(at(param, i), f32x4.sub(p, f32x4.mul(vStep, f32x4.div(mi, denom))));
    v128.store(at(m, i), mi);
    v128.store(at(v, i), vi);
  }
  for (; i < n; i++) {
    const g = load<f32>(at(grad, i)) * sc;
    const p = load<f32>(at(param, i)) * decay;
    const m0 = load<f32>(at(m, i));
    const mi = smallW ? m0 + lerpW * (g - m0) : g - (g - m0) * lerpW;
    const vi = load<f32>(at(v, i)) * beta2 + w2 * g * g;
    const denom = Mathf.sqrt(vi) / bc2Sqrt + eps;
    store<f32>(at(param, i), p - stepSize * (mi / denom));
    store<f32>(at(m, i), mi);
    store<f32>(at(v, i), vi);
  }
}
