// The CPU kernels: one wasm module, one file per kernel family. Each export is the
// reference implementation of the matching WGSL kernel (see src/backend/kernels.ts).
export * from './memory';
export * from './basic';
export * from './matmul';
export * from './rows';
export * from './optim';
export * from './attention';
