// Which variant of the tiled matmul kernel runs which shape: per measured shape, the
// fastest correct one (planMatmul takes the nearest measured shape). Written by the
// matmul benchmark: `node dist/node/bench.js matmul --device webgpu --variants all --tuning
// src/backend/webgpu/kernels/matmul-tuning.ts` on the GPU to tune for.
import type { MatmulTuning } from './matmul.js';

export const MATMUL_TUNING: MatmulTuning = {
  adapter: 'nvidia · NVIDIA: 580.159.04 580.159.4.0',
  date: '2026-11-26T18:56:01.183Z',
  source: 'node dist/node/bench.js matmul --variants all',
  shapes: [
    { m: 256, n: 256, k: 256, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '64x128k8t256', vec: true, gflops: 1063 },
    { m: 512, n: 512, k: 512, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 8, gflops: 8304 },
    { m: 1024, n: 1024, k: 1024, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 2, gflops: 26516 },
    { m: 2048, n: 2048, k: 2048, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256e', vec: true, gflops: 35883 },
    { m: 4096, n: 4096, k: 4096, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 2, whole: 864, gflops: 37702 },
    { m: 2048, n: 4864, k: 896, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 6, whole: 528, gflops: 32180 },
    { m: 2048, n: 4864, k: 896, batch: 1, transA: false, transB: true, bDtype: 'bf16', variant: '128x128k8t256', vec: true, splits: 3, whole: 528, gflops: 29524 },
    { m: 2048, n: 896, k: 4864, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 7, gflops: 32495 },
    { m: 2048, n: 896, k: 4864, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 7, gflops: 34588 },
    { m: 2048, n: 4864, k: 896, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 3, whole: 528, gflops: 35279 },
    { m: 4864, n: 896, k: 2048, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 16, whole: 256, gflops: 36515 },
    { m: 896, n: 4864, k: 2048, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 16, whole: 256, gflops: 37905 },
    { m: 2048, n: 11008, k: 2048, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 4, whole: 1320, gflops: 35467 },
    { m: 2048, n: 896, k: 896, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 2, gflops: 25766 },
    { m: 2048, n: 896, k: 896, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k16t256', vec: true, gflops: 26488 },
    { m: 896, n: 896, k: 2048, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 5, gflops: 30849 },
    { m: 2048, n: 128, k: 896, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 8, gflops: 15971 },
    { m: 2048, n: 896, k: 128, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k16t256', vec: true, gflops: 15914 },
    { m: 128, n: 896, k: 2048, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 16, gflops: 15328 },
    { m: 1024, n: 151936, k: 896, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t256', vec: true, gflops: 37209 },
    { m: 1024, n: 896, k: 151936, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 23, gflops: 38326 },
    { m: 151936, n: 896, k: 1024, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 2, whole: 8184, gflops: 39759 },
    { m: 1024, n: 1024, k: 64, batch: 14, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t512e', vec: true, gflops: 15132 },
    { m: 2048, n: 1152, k: 896, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 11, whole: 132, gflops: 27978 },
    { m: 2048, n: 896, k: 1152, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k16t256', vec: true, gflops: 27268 },
    { m: 1152, n: 896, k: 2048, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 12, gflops: 26717 },
    { m: 2048, n: 9728, k: 896, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t256', vec: true, gflops: 34850 },
    { m: 2048, n: 896, k: 9728, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 7, gflops: 36318 },
    { m: 9728, n: 896, k: 2048, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 16, whole: 512, gflops: 36428 },
  ],
};
