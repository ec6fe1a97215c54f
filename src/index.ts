// The public API, shared by the Node and browser entry points.
export type { Backend, BackendInfo, BackendKind } from './backend/backend.js';
export { createBackend, parseDeviceChoice, type DeviceChoice } from './backend/select.js';
// Memory the WebGPU attention backward may hold for dS (lower it where device memory is tight).
export { DEFAULT_STORED_SCORES_BUDGET, setStoredScoresBudget } from './backend/webgpu/kernels/attention.js';
// Matrix-product plans measured on this GPU (the matmul benchmark's --tuning FILE.json).
export { parseMatmulTuning, useMatmulTuning, type MatmulTuning } from './backend/webgpu/kernels/matmul.js';
// Attention tiles measured on this GPU (the attention benchmark's --tuning FILE.json).
export { parseAttentionTuning, useAttentionTuning, type AttentionTuning, type AttentionTiles, type AttentionTile } from './backend/webgpu/kernels/attention.js';
export { Runtime } from './tensor/runtime.js';
export { Tensor } from './tensor/tensor.js';
export { backward } from './tensor/autograd.js';
export type { DType } from './tensor/dtype.js';
export * as ops from './tensor/ops/index.js';
export { AdamW, type AdamWOptions, type AdamWState } from './optim/adamw.js';
export * from './text/index.js';
export * from './vision/index.js';
export * from './train/index.js';
export * from './models/qwen2vl/index.js';
