// Which variant of the tiled matmul kernel runs which shape: per measured shape, the
// fastest correct one (planMatmul takes the nearest measured shape). Written by the
// matmul benchmark: `node dist/node/bench.js matmul --device webgpu --variants all --tuning
// src/backend/webgpu/kernels/matmul-tuning.ts` on the GPU to tune for.
import type { MatmulTuning } from './matmul.js';

export const MATMUL_TUNING: MatmulTuning = {
  adapter: 'nvidia · NVIDIA: 580.159.04 580.159.4.0',
  date: '2026-11-26T18:48:03.376Z',
  source: 'node dist/node/bench.js matmul --variants all',
  shapes: [
    { m: 256, n: 256, k: 256, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '64x128k8t256', vec: true, gflops: 1073 },
    { m: 512, n: 512, k: 512, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '64x128k8t256', vec: true, splits: 4, gflops: 10974 },
    { m: 1024, n: 1024, k: 1024, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 4, gflops: 26016 },
    { m: 2048, n: 2048, k: 2048, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, gflops: 36409 },
    { m: 4096, n: 4096, k: 4096, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 2, whole: 864, gflops: 37719 },
    { m: 2048, n: 4864, k: 896, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 3, whole: 528, gflops: 33920 },
    { m: 2048, n: 4864, k: 896, batch: 1, transA: false, transB: true, bDtype: 'bf16', variant: '128x128k8t512e', vec: true, gflops: 29500 },
    { m: 2048, n: 896, k: 4864, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 7, gflops: 32447 },
    { m: 2048, n: 896, k: 4864, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 7, gflops: 34468 },
    { m: 2048, n: 4864, k: 896, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 3, whole: 528, gflops: 34816 },
    { m: 4864, n: 896, k: 2048, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 16, whole: 256, gflops: 36018 },
    { m: 896, n: 4864, k: 2048, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 16, whole: 256, gflops: 37297 },
    { m: 2048, n: 11008, k: 2048, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 4, whole: 1320, gflops: 35066 },
    { m: 2048, n: 896, k: 896, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 2, gflops: 26140 },
    { m: 2048, n: 896, k: 896, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 2, gflops: 26946 },
    { m: 896, n: 896, k: 2048, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 5, gflops: 30187 },
    { m: 2048, n: 128, k: 896, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 8, gflops: 14639 },
    { m: 2048, n: 896, k: 128, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k16t256', vec: true, gflops: 15005 },
    { m: 128, n: 896, k: 2048, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '64x128k8t256', vec: true, splits: 8, gflops: 13871 },
    { m: 1024, n: 151936, k: 896, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 5, whole: 9472, gflops: 36155 },
    { m: 1024, n: 896, k: 151936, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 12, gflops: 33301 },
    { m: 151936, n: 896, k: 1024, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '128x128k8t256', vec: true, splits: 2, whole: 8192, gflops: 39759 },
    { m: 1024, n: 1024, k: 64, batch: 14, transA: false, transB: true, bDtype: 'f32', variant: '128x128k8t512e', vec: true, gflops: 15091 },
  ],
};
