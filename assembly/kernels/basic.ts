// Elementwise kernels (reference for shaders/basic.wgsl).

/** out[i] = bits for i < n (f32 and i32 alike: the caller passes the bit pattern). */
export function fill(out: usize, n: i32, bits: u32): void {
  const v = v128.splat<u32>(bits);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), v);
  for (; i < n; i++) store<u32>(out + (<usize>i << 2), bits);
}
