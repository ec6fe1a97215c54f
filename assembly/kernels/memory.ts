// Linear-memory allocation for tensors, exported to the TS side (TLSF from the runtime).
// 16-byte aligned, which v128 loads/stores like.

export function alloc(bytes: usize): usize {
  return heap.alloc(bytes < 16 ? 16 : bytes);
}

export function free(ptr: usize): void {
  heap.free(ptr);
}
