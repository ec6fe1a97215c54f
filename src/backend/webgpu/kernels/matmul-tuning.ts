// Which variant of the tiled matmul kernel runs which shape: per measured shape, the
// fastest correct one (planMatmul takes the nearest measured shape). Written by the
// matmul benchmark: `node dist/node/bench.js matmul --device webgpu --variants all --tuning
// src/backend/webgpu/kernels/matmul-tuning.ts` on the GPU to tune for.
import type { MatmulTuning } from './matmul.js';

export const MATMUL_TUNING: MatmulTuning = {
  adapter: 'nvidia · NVIDIA: 580.159.04 580.159.4.0',
  date: '2026-11-26T08:05:02.855Z',
  source: 'the first kernel\'s run (bench/results/matmul-h100.json before the variants): its tiled128 is 128x128k16t256 without vector loads, its tiled64 became 64x64k8t64',
  shapes: [
    { m: 256, n: 256, k: 256, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '64x64k8t64', vec: false, gflops: 710 },
    { m: 512, n: 512, k: 512, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '64x64k8t64', vec: false, gflops: 3011 },
    { m: 1024, n: 1024, k: 1024, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k16t256', vec: false, gflops: 12322 },
    { m: 2048, n: 2048, k: 2048, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k16t256', vec: false, gflops: 20389 },
    { m: 4096, n: 4096, k: 4096, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k16t256', vec: false, gflops: 20611 },
    { m: 2048, n: 4864, k: 896, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k16t256', vec: false, gflops: 20125 },
    { m: 2048, n: 4864, k: 896, batch: 1, transA: false, transB: true, bDtype: 'bf16', variant: '128x128k16t256', vec: false, gflops: 20365 },
    { m: 2048, n: 896, k: 4864, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k16t256', vec: false, gflops: 17677 },
    { m: 2048, n: 896, k: 4864, batch: 1, transA: false, transB: false, bDtype: 'f32', variant: '128x128k16t256', vec: false, gflops: 17773 },
    { m: 4864, n: 896, k: 2048, batch: 1, transA: true, transB: false, bDtype: 'f32', variant: '128x128k16t256', vec: false, gflops: 15591 },
    { m: 2048, n: 11008, k: 2048, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '128x128k16t256', vec: false, gflops: 19619 },
    { m: 1024, n: 1024, k: 64, batch: 14, transA: false, transB: true, bDtype: 'f32', variant: '128x128k16t256', vec: false, gflops: 13033 },
  ],
};
