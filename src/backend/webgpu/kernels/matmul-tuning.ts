// Which variant of the tiled matmul kernel runs which shape: per measured shape, the
// fastest correct one (planMatmul takes the nearest measured shape). Written by the
// matmul benchmark: `node dist/node/bench.js matmul --device webgpu --variants all --tuning
// src/backend/webgpu/kernels/matmul-tuning.ts` on the GPU to tune for.
import type { MatmulTuning } from './matmul.js';

export const MATMUL_TUNING: MatmulTuning = {
  adapter: 'nvidia · NVIDIA: 580.159.04 580.159.4.0',
  date: '2026-11-26T14:29:10.276Z',
  source: 'node dist/node/bench.js matmul --variants all',
  shapes: [
    { m: 256, n: 256, k: 256, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '64x128k8t256', vec: true, gflops: 1201 },
    { m: 512, n: 512, k: 512, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '64x128k8t256', vec: true, gflops: 5491 },
    { m: 1024, n: 1024, k: 1024, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '64x128k8t256', vec: true, gflops: 22282 },
    { m: 2048, n: 2048, k: 2048, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, gflops: 33133 },
    { m: 4096, n: 4096, k: 4096, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, gflops: 33670 },
    { m: 2048, n: 4864, k: 896, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t512e', vec: true, gflops: 26030 },
    { m: 2048, n: 4864, k: 896, batch: 1, transA: false, transB: true, bDtype: 'bf16', variant: '128x128k8t256e', vec: true, gflops: 29561 },
    { m: 2048, n: 896, k: 4864, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 2, gflops: 27238 },
    { m: 2048, n: 896, k: 4864, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 2, gflops: 27903 },
    { m: 4864, n: 896, k: 2048, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '64x128k8t256', vec: true, splits: 2, gflops: 24827 },
    { m: 896, n: 4864, k: 2048, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '64x128k8t256', vec: true, splits: 4, gflops: 24608 },
    { m: 2048, n: 11008, k: 2048, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t512e', vec: true, gflops: 28756 },
    { m: 896, n: 896, k: 2048, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '64x128k8t256', vec: true, splits: 2, gflops: 21978 },
    { m: 128, n: 896, k: 2048, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '64x128k8t256', vec: true, splits: 8, gflops: 13087 },
    { m: 1024, n: 896, k: 151936, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '64x128k8t256', vec: true, splits: 16, gflops: 31281 },
    { m: 1024, n: 1024, k: 64, batch: 14, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t512', vec: true, gflops: 14840 },
  ],
};
