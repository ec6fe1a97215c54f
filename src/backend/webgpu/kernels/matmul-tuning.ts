// Which variant of the tiled matmul kernel runs which shape: per measured shape, the
// fastest correct one (planMatmul takes the nearest measured shape). Written by the
// matmul benchmark: `node dist/node/bench.js matmul --device webgpu --variants all --tuning
// src/backend/webgpu/kernels/matmul-tuning.ts` on the GPU to tune for.
import type { MatmulTuning } from './matmul.js';

export const MATMUL_TUNING: MatmulTuning = {
  adapter: 'nvidia · NVIDIA: 580.159.04 580.159.4.0',
  date: '2026-11-26T23:31:34.352Z',
  source: 'node dist/node/bench.js matmul --variants all',
  shapes: [
    { m: 256, n: 256, k: 256, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '64x128k8t256', vec: true, gflops: 1131 },
    { m: 512, n: 512, k: 512, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '64x128k8t256r', vec: true, splits: 4, gflops: 12423 },
    { m: 1024, n: 1024, k: 1024, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256r', vec: true, splits: 2, gflops: 30299 },
    { m: 2048, n: 2048, k: 2048, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256r', vec: true, gflops: 43935 },
    { m: 4096, n: 4096, k: 4096, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256r', vec: true, gflops: 45990 },
    { m: 2048, n: 4864, k: 896, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t256r', vec: true, splits: 3, whole: 528, gflops: 35362 },
    { m: 2048, n: 4864, k: 896, batch: 1, transA: false, transB: true, bDtype: 'bf16', variant: '128x128k8t256r', vec: true, splits: 3, whole: 528, gflops: 30265 },
    { m: 2048, n: 896, k: 4864, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t256r', vec: true, splits: 7, gflops: 35067 },
    { m: 2048, n: 896, k: 4864, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256r', vec: true, splits: 7, gflops: 37065 },
    { m: 2048, n: 4864, k: 896, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256r', vec: true, gflops: 41160 },
    { m: 4864, n: 896, k: 2048, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '128x128k8t256r', vec: true, splits: 16, whole: 264, gflops: 39270 },
    { m: 896, n: 4864, k: 2048, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '128x128k8t256r', vec: true, splits: 16, whole: 264, gflops: 39304 },
    { m: 2048, n: 11008, k: 2048, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t256r', vec: true, gflops: 40841 },
    { m: 2048, n: 896, k: 896, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t256r', vec: true, gflops: 30796 },
    { m: 2048, n: 896, k: 896, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k16t256r', vec: true, gflops: 32227 },
    { m: 896, n: 896, k: 2048, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '128x128k8t256r', vec: true, splits: 5, gflops: 31388 },
    { m: 2048, n: 128, k: 896, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 8, gflops: 15672 },
    { m: 2048, n: 896, k: 128, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '64x128k8t256r', vec: true, gflops: 17003 },
    { m: 128, n: 896, k: 2048, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '64x128k8t256r', vec: true, splits: 8, gflops: 16172 },
    { m: 2048, n: 1152, k: 896, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t256r', vec: true, splits: 11, whole: 132, gflops: 31482 },
    { m: 2048, n: 896, k: 1152, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k16t256r', vec: true, gflops: 33408 },
    { m: 1152, n: 896, k: 2048, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '128x128k8t256r', vec: true, splits: 2, gflops: 35651 },
    { m: 2048, n: 9728, k: 896, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t256r', vec: true, gflops: 40744 },
    { m: 2048, n: 896, k: 9728, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256r', vec: true, splits: 7, gflops: 39723 },
    { m: 9728, n: 896, k: 2048, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '128x128k8t256r', vec: true, splits: 16, whole: 528, gflops: 40353 },
    { m: 1024, n: 151936, k: 896, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t256r', vec: true, gflops: 44781 },
    { m: 1024, n: 896, k: 151936, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256r', vec: true, splits: 7, gflops: 42649 },
    { m: 151936, n: 896, k: 1024, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '128x128k8t256r', vec: true, gflops: 48620 },
    { m: 1024, n: 1024, k: 64, batch: 14, transA: false, transB: true, bDtype: 'f32', variant: '64x128k8t256r', vec: true, gflops: 17048 },
  ],
};
