// CUDA twin of shaders/matmul.wgsl's `tiled` kernel (non-transposed f32 operands, vector loads,
// register-staged double buffering, one barrier per K-tile), built with nvcc on the GPU machine
// beside cuBLAS. No profiler reaches our Vulkan kernels; this twin runs the same algorithm where
// ncu, cuobjdump and nvdisasm do, so it separates limits of the algorithm from limits of the
// WGSL → SPIR-V → driver path. Variants differ only in what the template arguments name.
//
//   nvcc -O3 -arch=sm_90 -lcublas twin.cu -o twin && ./twin [n]      (tools/sgemm-twin/run.sh)
//   ./twin shapes [reps]      cuBLAS alone on the 0.5B model's products (for ncu to name its kernels)
#include <cublas_v2.h>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
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

// The ring of shaders/matmul.wgsl (BUFS = 3) on a (TM·WY) × (TN·WX) tile of WX·WY threads, each
// owning TM rows × TN columns (rows 4ty + r + 4WY·i, columns 4tx + c + 4WX·j): K-tile t sits in buffer
// t % 3; each K-tile first stores tile t + 1 (loaded during the last multiply), then loads tile
// t + 2, then multiplies, then the barrier (with FENCE as above). <8, 8, 16, 16> is the shipped
// kernel; the others take cuBLAS's geometry (128 outputs a thread, one or two blocks an SM).
// AHEAD = 2 keeps two K-tiles in flight in registers (tile t + 3 is loaded during K-tile t), the
// nearest a register-staged ring gets to cuBLAS's three cp.async stages.
template <int TM, int TN, int WX, int WY, int FENCE, int AHEAD = 1>
__global__ void __launch_bounds__(WX * WY) ring(const float *__restrict__ A, const float *__restrict__ B, float *__restrict__ C, int M, int N, int K) {
  constexpr int T = WX * WY, RQ = TM * WY / 4, CQ = TN * WX / 4;  // threads, row and column quads
  constexpr int PA = RQ * 8 / T, PB = CQ * 8 / T;                   // quads a thread loads per K-tile
  static_assert(PA * T == RQ * 8 && PB * T == CQ * 8, "each thread loads whole quads");
  __shared__ float4 ta[8][3 * RQ];
  __shared__ float4 tb[8][3 * CQ];
  const int lid = threadIdx.x;
  const int tx = lid % WX, ty = lid / WX;
  const int row0 = blockIdx.y * 4 * RQ, col0 = blockIdx.x * 4 * CQ;
  float4 sa_[AHEAD][PA], sb_[AHEAD][PB];
  auto fetch = [&](int k0, int sh) {
    float4 *sa = sa_[sh], *sb = sb_[sh];
#pragma unroll
    for (int h = 0; h < PA; h++) {
      int c = lid + T * h, ar = c / 2, ak = 4 * (c % 2);
      sa[h] = *reinterpret_cast<const float4 *>(&A[(size_t)(row0 + ar) * K + k0 + ak]);
    }
#pragma unroll
    for (int h = 0; h < PB; h++) {
      int c = lid + T * h, bk = c / CQ, bq = c % CQ;
      sb[h] = *reinterpret_cast<const float4 *>(&B[(size_t)(k0 + bk) * N + col0 + 4 * bq]);
    }
  };
  auto stash = [&](int buf, int sh) {
    float4 *sa = sa_[sh], *sb = sb_[sh];
#pragma unroll
    for (int h = 0; h < PA; h++) {
      int c = lid + T * h, ar = c / 2, ak = 4 * (c % 2);
      float *q = reinterpret_cast<float *>(&ta[0][RQ * buf + ar / 4]) + ar % 4;
      q[(ak + 0) * 12 * RQ] = sa[h].x;
      q[(ak + 1) * 12 * RQ] = sa[h].y;
      q[(ak + 2) * 12 * RQ] = sa[h].z;
      q[(ak + 3) * 12 * RQ] = sa[h].w;
    }
#pragma unroll
    for (int h = 0; h < PB; h++) {
      int c = lid + T * h;
      tb[c / CQ][CQ * buf + c % CQ] = sb[h];
    }
  };
  float4 acc[TM][TN / 4] = {};
  auto product = [&](int cur) {
#pragma unroll
    for (int kk = 0; kk < 8; kk++) {
      float a[TM];
      float4 b[TN / 4];
#pragma unroll
      for (int i = 0; i < TM / 4; i++) {
        float4 v = ta[kk][RQ * cur + ty + WY * i];
        a[4 * i] = v.x; a[4 * i + 1] = v.y; a[4 * i + 2] = v.z; a[4 * i + 3] = v.w;
      }
#pragma unroll
      for (int j = 0; j < TN / 4; j++) b[j] = tb[kk][CQ * cur + tx + WX * j];
#pragma unroll
      for (int r = 0; r < TM; r++)
#pragma unroll
        for (int j = 0; j < TN / 4; j++) {
          acc[r][j].x = fmaf(a[r], b[j].x, acc[r][j].x); acc[r][j].y = fmaf(a[r], b[j].y, acc[r][j].y);
          acc[r][j].z = fmaf(a[r], b[j].z, acc[r][j].z); acc[r][j].w = fmaf(a[r], b[j].w, acc[r][j].w);
        }
    }
  };
  const int tiles = K / 8;
  fetch(0, 0);
  stash(0, 0);
#pragma unroll
  for (int a = 1; a <= AHEAD; a++)
    if (a < tiles) fetch(8 * a, a % AHEAD);
  __syncthreads();
  int t = 0;
  // K-tile t: store tile t + 1 (from share (t + 1) % AHEAD), load tile t + 1 + AHEAD into that share.
  auto step = [&](int cur, int sh) {
    if (t + 1 < tiles) stash((cur + 1) % 3, sh);
    if (t + 1 + AHEAD < tiles) fetch((t + 1 + AHEAD) * 8, sh);
    product(cur);
    if (FENCE == 2) asm volatile("fence.acq_rel.cta;" ::: "memory");
    __syncthreads();
    t++;
  };
  constexpr int U = AHEAD == 1 ? 3 : 6;  // constant buffers and shares, as the WGSL
  while (t + U <= tiles) {
#pragma unroll
    for (int u = 0; u < U; u++) step(u % 3, (u + 1) % AHEAD);
  }
  while (t < tiles) {  // the share a constant, so that the shares stay in registers
    if ((t + 1) % AHEAD == 0) step(t % 3, 0);
    else step(t % 3, AHEAD - 1);
  }
#pragma unroll
  for (int r = 0; r < TM; r++) {
    int row = row0 + 4 * ty + r % 4 + 4 * WY * (r / 4);
#pragma unroll
    for (int j = 0; j < TN / 4; j++) *reinterpret_cast<float4 *>(&C[(size_t)row * N + col0 + 4 * tx + 4 * WX * j]) = acc[r][j];
  }
}

// `twin shapes`: cuBLAS alone on the 0.5B model's products (row-major, as bench/matmul.ts names
// them), each timed, so that ncu can name the kernel cuBLAS picks for each.
struct Shape { const char *name; int m, n, k; bool ta, tb; };
static int shapes_mode(int reps) {
  const Shape shapes[] = {
    {"square 4096", 4096, 4096, 4096, false, false},
    {"0.5B down x.W^T", 2048, 896, 4864, false, true},
    {"0.5B gate/up dX", 2048, 896, 9728, false, false},
    {"0.5B gate/up x.W^T", 2048, 9728, 896, false, true},
    {"0.5B q/o x.W^T", 2048, 896, 896, false, true},
    {"0.5B q/o dX", 2048, 896, 896, false, false},
    {"0.5B q/o dW", 896, 896, 2048, true, false},
  };
  cublasHandle_t cb;
  CHECK(cublasCreate(&cb));
  CHECK(cublasSetMathMode(cb, CUBLAS_PEDANTIC_MATH));
  const float one = 1, zero = 0;
  for (const Shape &s : shapes) {
    float *A, *B, *C;
    CHECK(cudaMalloc(&A, (size_t)s.m * s.k * 4)); CHECK(cudaMalloc(&B, (size_t)s.k * s.n * 4)); CHECK(cudaMalloc(&C, (size_t)s.m * s.n * 4));
    CHECK(cudaMemset(A, 0, (size_t)s.m * s.k * 4)); CHECK(cudaMemset(B, 0, (size_t)s.k * s.n * 4));
    // Row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ.
    auto run = [&] {
      CHECK(cublasSgemm(cb, s.tb ? CUBLAS_OP_T : CUBLAS_OP_N, s.ta ? CUBLAS_OP_T : CUBLAS_OP_N, s.n, s.m, s.k, &one, B, s.tb ? s.k : s.n, A, s.ta ? s.m : s.k, &zero, C, s.n));
    };
    float ms = time_ms(run, reps);
    printf("%-20s %5d x %5d x %5d  cublas %.4f ms %.1f TFLOP/s\n", s.name, s.m, s.n, s.k, ms, 2.0 * s.m * s.n * (double)s.k / ms / 1e9);
    CHECK(cudaFree(A)); CHECK(cudaFree(B)); CHECK(cudaFree(C));
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && std::string(argv[1]) == "shapes") return shapes_mode(argc > 2 ? atoi(argv[2]) : 20);
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
  // kernel: a rows × cols tile per block of `threads`.
  auto check = [&](const char *name, auto kernel, int rows = 128, int cols = 128, int threads = 256) {
    cudaFuncAttributes at;
    CHECK(cudaFuncGetAttributes(&at, kernel));
    dim3 grid(n / cols, n / rows);
    auto run = [&] { kernel<<<grid, threads>>>(A, B, C, n, n, n); };
    CHECK(cudaMemset(C, 0xff, e * 4));
    run();
    CHECK(cudaGetLastError());
    CHECK(cudaMemcpy(got.data(), C, e * 4, cudaMemcpyDeviceToHost));
    double num = 0, den = 0;
    for (size_t i = 0; i < e; i++) { double d = got[i] - want[i]; num += d * d; den += (double)want[i] * want[i]; }
    float ms = time_ms(run, reps);
    printf("%-19s %3d regs %6zu B smem %.3f ms %.1f TFLOP/s = %.2fx cublas, rel err %.2e\n", name, at.numRegs, at.sharedSizeBytes, ms, flop / ms / 1e9, ref / ms, sqrt(num / den));
  };
  check("mirror k8", tiled<8, 0>);
  check("mirror k8 sc", tiled<8, 0, 1>);
  check("mirror k8 acqrel", tiled<8, 0, 2>);
  check("mirror k16", tiled<16, 0>);
  check("warp4x8 k8", tiled<8, 1>);
  check("warp4x8 k16", tiled<16, 1>);
  check("ring k8", ring<8, 8, 16, 16, 0>);
  check("ring k8 acqrel", ring<8, 8, 16, 16, 2>);
  check("ring 256x128 8x16", ring<8, 16, 8, 32, 2>, 256, 128, 256);
  check("ring 256x128 16x8", ring<16, 8, 16, 16, 2>, 256, 128, 256);
  check("ring 128x256 8x16", ring<8, 16, 16, 16, 2>, 128, 256, 256);
  check("ring 128x128 8x16", ring<8, 16, 8, 16, 2>, 128, 128, 128);
  check("ring 128x128 16x8", ring<16, 8, 16, 8, 2>, 128, 128, 128);
  check("ring2 128x256 8x16", ring<8, 16, 16, 16, 2, 2>, 128, 256, 256);
  check("ring2 256x128 16x8", ring<16, 8, 16, 16, 2, 2>, 256, 128, 256);
  check("ring2 256x128 8x16", ring<8, 16, 8, 32, 2, 2>, 256, 128, 256);
  check("ring2 128x128 8x8", ring<8, 8, 16, 16, 2, 2>);
  return 0;
}
