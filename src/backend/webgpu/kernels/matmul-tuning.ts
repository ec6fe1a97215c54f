// Which variant of the tiled matmul kernel runs which shape: per measured shape, the
// fastest correct one (planMatmul takes the nearest measured shape). Written by the
// matmul benchmark: `node dist/node/bench.js matmul --device webgpu --variants all --tuning
// src/backend/webgpu/kernels/matmul-tuning.ts` on the GPU to tune for.
import type { MatmulTuning } from './matmul.js';

export const MATMUL_TUNING: MatmulTuning = {
  adapter: 'nvidia · NVIDIA: 580.159.04 580.159.4.0',
  date: '2026-11-26T15:21:40.407Z',
  source: 'node dist/node/bench.js matmul --variants all',
  shapes: [
    { m: 256, n: 256, k: 256, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '64x128k8t256', vec: true, gflops: 1179 },
    { m: 512, n: 512, k: 512, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '64x128k8t256', vec: true, gflops: 5518 },
    { m: 1024, n: 1024, k: 1024, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 4, gflops: 23776 },
    { m: 2048, n: 2048, k: 2048, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256e', vec: true, gflops: 36484 },
    { m: 4096, n: 4096, k: 4096, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, gflops: 37958 },
    { m: 2048, n: 4864, k: 896, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t256', vec: true, gflops: 27915 },
    { m: 2048, n: 4864, k: 896, batch: 1, transA: false, transB: true, bDtype: 'bf16', variant: '128x128k8t256e', vec: true, gflops: 22300 },
    { m: 2048, n: 896, k: 4864, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 4, gflops: 28230 },
    { m: 2048, n: 896, k: 4864, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 2, gflops: 31581 },
    { m: 4864, n: 896, k: 2048, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 4, gflops: 28578 },
    { m: 896, n: 4864, k: 2048, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 4, gflops: 29159 },
    { m: 2048, n: 11008, k: 2048, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t256', vec: true, gflops: 31196 },
    { m: 896, n: 896, k: 2048, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 4, gflops: 25088 },
    { m: 128, n: 896, k: 2048, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '64x128k8t256', vec: true, splits: 8, gflops: 14336 },
    { m: 1024, n: 896, k: 151936, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 4, gflops: 32788 },
    { m: 1024, n: 1024, k: 64, batch: 14, transA: false, transB: true, bDtype: 'f32', variant: '64x128k8t256', vec: true, gflops: 12260 },
  ],
};
