// CUDA twin of shaders/matmul.wgsl's `tiled` kernel (non-transposed f32 operands, vector loads,
// register-staged double buffering, one barrier per K-tile), built with nvcc on the GPU machine
// beside cuBLAS. No profiler reaches our Vulkan kernels; this twin runs the same algorithm where
// ncu, cuobjdump and nvdisasm do, so it separates limits of the algorithm from limits of the
// WGSL → SPIR-V → driver path. Variants differ only in what the template arguments name.
//
//   nvcc -O3 -arch=sm_90 -lcublas twin.cu -o twin && ./twin [n]      (tools/sgemm-twin/run.sh)
#include <cublas_v2.h>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "../cuda-twin.cuh"

// Thread (tx, ty) of 16 × 16 owns rows 4ty+r, 64+4ty+r and columns 4tx+c, 64+4tx+c (r, c < 4).
// MAP 0: tx = lid % 16 (a warp spans 2 ty × 16 tx, as in the WGSL); MAP 1: a warp spans 4 ty × 8 tx.
template <int MAP>
__device__ __forceinline__ void thread_xy(int lid, int &tx, int &ty) {
  if (MAP == 0) { tx = lid % 16; ty = lid / 16; return; }
  int warp = lid / 32, lane = lid % 32;
  tx = (warp % 2) * 8 + lane % 8;
  ty = (warp / 2) * 4 + lane / 8;
}

// FENCE: a block-scope memory fence before each barrier, as WGSL's workgroupBarrier() carries
// (OpControlBarrier with AcquireRelease | WorkgroupMemory semantics); __syncthreads() alone has
// none. 1: sequentially consistent (__threadfence_block), 2: acquire-release (fence.acq_rel.cta).
template <int BK, int MAP, int FENCE = 0>
__global__ void __launch_bounds__(256) tiled(const float *__restrict__ A, const float *__restrict__ B, float *__restrict__ C, int M, int N, int K) {
  // tile[kk][32·buf + q]: quad q of rows (A) / columns (B) 4q..4q+3 at depth kk.
  __shared__ float4 ta[BK][64];
  __shared__ float4 tb[BK][64];
  constexpr int PER = BK / 8;  // quads per thread and operand
  const int lid = threadIdx.x;
  int tx, ty;
  thread_xy<MAP>(lid, tx, ty);
  const int row0 = blockIdx.y * 128, col0 = blockIdx.x * 128;
  float4 sa[PER], sb[PER];
  auto fetch = [&](int k0) {
#pragma unroll
    for (int h = 0; h < PER; h++) {
      int c = lid + 256 * h;
      int ar = c / (BK / 4), ak = 4 * (c % (BK / 4));
      sa[h] = *reinterpret_cast<const float4 *>(&A[(size_t)(row0 + ar) * K + k0 + ak]);
      int bk = c / 32, bc = 4 * (c % 32);
      sb[h] = *reinterpret_cast<const float4 *>(&B[(size_t)(k0 + bk) * N + col0 + bc]);
    }
  };
  auto stash = [&](int buf) {
#pragma unroll
    for (int h = 0; h < PER; h++) {
      int c = lid + 256 * h;
      int ar = c / (BK / 4), ak = 4 * (c % (BK / 4));
      float *q = reinterpret_cast<float *>(&ta[0][32 * buf + ar / 4]) + ar % 4;
      q[(ak + 0) * 256] = sa[h].x;
      q[(ak + 1) * 256] = sa[h].y;
      q[(ak + 2) * 256] = sa[h].z;
      q[(ak + 3) * 256] = sa[h].w;
      int bk = c / 32, bc = 4 * (c % 32);
      tb[bk][32 * buf + bc / 4] = sb[h];
    }
  };
  fetch(0);
  stash(0);
  __syncthreads();
  float4 acc[8][2] = {};
  const int tiles = K / BK;
  for (int t = 0; t < tiles; t++) {
    const int cur = t & 1;
    const bool has_next = t + 1 < tiles;
    if (has_next) fetch((t + 1) * BK);
#pragma unroll
    for (int kk = 0; kk < BK; kk++) {
      float4 a0 = ta[kk][32 * cur + ty], a1 = ta[kk][32 * cur + ty + 16];
      float4 b0 = tb[kk][32 * cur + tx], b1 = tb[kk][32 * cur + tx + 16];
      float a[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
#pragma unroll
      for (int r = 0; r < 8; r++) {
        acc[r][0].x = fmaf(a[r], b0.x, acc[r][0].x); acc[r][0].y = fmaf(a[r], b0.y, acc[r][0].y);
        acc[r][0].z = fmaf(a[r], b0.z, acc[r][0].z); acc[r][0].w = fmaf(a[r], b0.w, acc[r][0].w);
        acc[r][1].x = fmaf(a[r], b1.x, acc[r][1].x); acc[r][1].y = fmaf(a[r], b1.y, acc[r][1].y);
        acc[r][1].z = fmaf(a[r], b1.z, acc[r][1].z); acc[r][1].w = fmaf(a[r], b1.w, acc[r][1].w);
      }
    }
    if (has_next) stash(cur ^ 1);
    if (FENCE == 1) __threadfence_block();
    if (FENCE == 2) asm volatile("fence.acq_rel.cta;" ::: "memory");
    __syncthreads();
  }
#pragma unroll
  for (int r = 0; r < 8; r++) {
    int row = row0 + (r < 4 ? 4 * ty + r : 64 + 4 * ty + r - 4);
    *reinterpret_cast<float4 *>(&C[(size_t)row * N + col0 + 4 * tx]) = acc[r][0];
    *reinterpret_cast<float4 *>(&C[(size_t)row * N + col0 + 64 + 4 * tx]) = acc[r][1];
  }
}

int main(int argc, char **argv) {
  const int n = argc > 1 ? atoi(argv[1]) : 4096;
  const int reps = argc > 2 ? atoi(argv[2]) : 20;
  const size_t e = (size_t)n * n;
  std::vector<float> h(e);
  unsigned s = 12345;
  for (auto &x : h) { s = s * 1664525u + 1013904223u; x = (s >> 8) * (2.0f / 16777216.0f) - 1.0f; }
  float *A, *B, *C, *R;
  CHECK(cudaMalloc(&A, e * 4)); CHECK(cudaMalloc(&B, e * 4)); CHECK(cudaMalloc(&C, e * 4)); CHECK(cudaMalloc(&R, e * 4));
  CHECK(cudaMemcpy(A, h.data(), e * 4, cudaMemcpyHostToDevice));
  for (auto &x : h) { s = s * 1664525u + 1013904223u; x = (s >> 8) * (2.0f / 16777216.0f) - 1.0f; }
  CHECK(cudaMemcpy(B, h.data(), e * 4, cudaMemcpyHostToDevice));
  cublasHandle_t cb;
  CHECK(cublasCreate(&cb));
  CHECK(cublasSetMathMode(cb, CUBLAS_PEDANTIC_MATH));  // plain fp32, no TF32
  const float one = 1, zero = 0;
  // Row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ.
  auto cublas = [&] { CHECK(cublasSgemm(cb, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, B, n, A, n, &zero, R, n)); };
  const double flop = 2.0 * n * n * (double)n;
  float ref = time_ms(cublas, reps);
  printf("n=%d cublas %.3f ms %.1f TFLOP/s\n", n, ref, flop / ref / 1e9);
  std::vector<float> want(e), got(e);
  CHECK(cudaMemcpy(want.data(), R, e * 4, cudaMemcpyDeviceToHost));
  auto check = [&](const char *name, auto kernel) {
    cudaFuncAttributes at;
    CHECK(cudaFuncGetAttributes(&at, kernel));
    dim3 grid(n / 128, n / 128);
    auto run = [&] { kernel<<<grid, 256>>>(A, B, C, n, n, n); };
    CHECK(cudaMemset(C, 0xff, e * 4));
    run();
    CHECK(cudaGetLastError());
    CHECK(cudaMemcpy(got.data(), C, e * 4, cudaMemcpyDeviceToHost));
    double num = 0, den = 0;
    for (size_t i = 0; i < e; i++) { double d = got[i] - want[i]; num += d * d; den += (double)want[i] * want[i]; }
    float ms = time_ms(run, reps);
    printf("%-14s %3d regs %6zu B smem %.3f ms %.1f TFLOP/s = %.2fx cublas, rel err %.2e\n", name, at.numRegs, at.sharedSizeBytes, ms, flop / ms / 1e9, ref / ms, sqrt(num / den));
  };
  check("mirror k8", tiled<8, 0>);
  check("mirror k8 sc", tiled<8, 0, 1>);
  check("mirror k8 acqrel", tiled<8, 0, 2>);
  check("mirror k16", tiled<16, 0>);
  check("warp4x8 k8", tiled<8, 1>);
  check("warp4x8 k16", tiled<16, 1>);
  return 0;
}
