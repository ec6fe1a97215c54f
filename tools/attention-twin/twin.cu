// CUDA twin of shaders/attention.wgsl's `attn_fwd` with the H100's shipped tile for head dim 128
// (256 threads as 16 × 16, 64 queries × 64 keys per block, 4 query rows and one score quad per
// thread, DK head dims or rows per staging step), causal, one sequence, GQA. No profiler reaches
// our Vulkan kernels; this twin runs the same algorithm where ncu does, so its stall reasons tell
// what bounds the kernel's algorithm, apart from the WGSL → SPIR-V → driver path (as
// tools/sgemm-twin does for the matrix product). Variants differ only in template arguments.
//
//   nvcc -O3 -arch=sm_90 twin.cu -o twin && ./twin [tokens]      (tools/attention-twin/run.sh)
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "../cuda-twin.cuh"

constexpr int D = 128;
constexpr float NEG = -1.0e30f;

// FENCE 2: an acquire-release block-scope fence before each barrier, as WGSL's workgroupBarrier()
// carries; 0: __syncthreads() alone.
template <int FENCE>
__device__ __forceinline__ void barrier() {
  if (FENCE == 2) asm volatile("fence.acq_rel.cta;" ::: "memory");
  __syncthreads();
}

// The tile is WG threads as TR × TC, BR query rows per block (RM = BR / TR per thread, 4 or 8),
// as in the WGSL. MINB: workgroups each SM must be able to hold (__launch_bounds__' second
// argument): 2 caps the registers at 128, as the WGSL kernel would need for two per SM.
// PIPE: each staging round's loads are issued right after the previous round's stores, so they
// are in flight during its product (software pipelining, as the matrix product's STAGED does).
// BC keys per block; ALIAS keeps the row-statistics exchange in the staging rows of `sh` (one more
// barrier per block) instead of an array of its own, so that BC = 128 fits 48 KB.
template <int DK, int FENCE, int MINB = 1, int WG = 256, int TC = 16, int BR = 64, int BC = 64, bool ALIAS = false, bool PIPE = false>
__global__ void __launch_bounds__(WG, MINB) attn_fwd(const float4 *__restrict__ q, const float4 *__restrict__ k, const float4 *__restrict__ v,
                                               float4 *__restrict__ out, float *__restrict__ lse, int T, int HQ, int HKV, float scale_log2) {
  constexpr int TR = WG / TC, RM = BR / TR, RQ = RM / 4, CS = BC / (4 * TC), CO = D / (4 * TC);
  constexpr int B_ROW = BR / 4, PB = (BR / 4 + BC / 4 > D / 4 ? BR / 4 + BC / 4 : D / 4);
  constexpr int NCH = BC / DK;
  static_assert(RM == 4 || RM == 8, "4 or 8 rows per thread");
  constexpr int TQ = ((BR > BC ? BR : BC) * DK / 4 + WG - 1) / WG;  // row quads per thread of a transposed step
  constexpr int NQ = DK * D / 4 / WG;                     // quads per thread of a natural step
  __shared__ float4 sh[PB + BR / 4 * NCH][DK + 1];
  __shared__ float4 red_own[ALIAS ? 1 : BR * TC / 4];
  float4 *red = ALIAS ? &sh[0][0] : red_own;
  static_assert(!ALIAS || BR * TC / 4 <= PB * (DK + 1), "the exchange fits the staging rows");
  const int lid = threadIdx.x, tr = lid / TC, tc = lid % TC;
  const int blocks = (T + BR - 1) / BR;
  const int r0 = (blocks - 1 - blockIdx.x) * BR;  // causal blocks with the most keys start first
  const int h = blockIdx.y, hk = h / (HQ / HKV);
  const int nq = min(BR, T - r0), kend = r0 + nq;
  auto at4 = [&](int token, int heads, int head, int dim) { return ((token * heads + head) * D + dim) / 4; };

  // Transposed staging (fetch_t / put_t): item p is dim quad p % 2 + 2·(p / 2rows) of row (p / 2) % rows.
  auto fetch_t = [&](const float4 *src, int rows, int tok0, int valid, int heads, int head, int d0, float4 *x) {
#pragma unroll
    for (int i = 0; i < TQ; i++) {
      int p = lid + i * WG;
      int r = (p / 2) % rows, dq = p % 2 + 2 * (p / (2 * rows));
      x[i] = (p < rows * DK / 4 && r < valid) ? src[at4(tok0 + r, heads, head, d0 + 4 * dq)] : make_float4(0, 0, 0, 0);
    }
  };
  auto put_t = [&](int row0, int rows, const float4 *x) {
#pragma unroll
    for (int i = 0; i < TQ; i++) {
      int p = lid + i * WG;
      if (p >= rows * DK / 4) continue;
      int r = (p / 2) % rows, dq = p % 2 + 2 * (p / (2 * rows));
      float *w = reinterpret_cast<float *>(&sh[row0 + r / 4][4 * dq]) + r % 4;
      w[0] = x[i].x; w[4] = x[i].y; w[8] = x[i].z; w[12] = x[i].w;
    }
  };

  auto fetch_n = [&](int j, float4 *x) {
#pragma unroll
    for (int i = 0; i < NQ; i++) {
      int p = lid + i * WG, r = p / (D / 4), c = p % (D / 4);
      x[i] = r < min(DK, T - j) ? v[at4(j + r, HKV, hk, 4 * c)] : make_float4(0, 0, 0, 0);
    }
  };
  float4 xq[TQ], xk[TQ], xn[NQ];
  if (PIPE) {
    fetch_t(q, BR, r0, nq, HQ, h, 0, xq);
    fetch_t(k, BC, 0, min(BC, T), HKV, hk, 0, xk);
  }
  float m[RM], l[RM];
  float4 o[RM * CO];
#pragma unroll
  for (int r = 0; r < RM; r++) { m[r] = NEG; l[r] = 0; }
#pragma unroll
  for (int i = 0; i < RM * CO; i++) o[i] = make_float4(0, 0, 0, 0);

  for (int j0 = 0; j0 < kend; j0 += BC) {
    float4 sc[RM * CS];
#pragma unroll
    for (int i = 0; i < RM * CS; i++) sc[i] = make_float4(0, 0, 0, 0);
    for (int d0 = 0; d0 < D; d0 += DK) {
      if (!PIPE) {
        fetch_t(q, BR, r0, nq, HQ, h, d0, xq);
        fetch_t(k, BC, j0, min(BC, T - j0), HKV, hk, d0, xk);
      }
      barrier<FENCE>();
      put_t(0, BR, xq);
      put_t(B_ROW, BC, xk);
      barrier<FENCE>();
      if (PIPE) {
        if (d0 + DK < D) {
          fetch_t(q, BR, r0, nq, HQ, h, d0 + DK, xq);
          fetch_t(k, BC, j0, min(BC, T - j0), HKV, hk, d0 + DK, xk);
        } else {
          fetch_n(j0, xn);
        }
      }
#pragma unroll
      for (int d = 0; d < DK; d++) {
        float ar[RM];
#pragma unroll
        for (int i = 0; i < RQ; i++) { float4 a = sh[tr * RQ + i][d]; ar[4 * i] = a.x; ar[4 * i + 1] = a.y; ar[4 * i + 2] = a.z; ar[4 * i + 3] = a.w; }
#pragma unroll
        for (int c = 0; c < CS; c++) {
          float4 b = sh[B_ROW + tc + TC * c][d];
#pragma unroll
          for (int r = 0; r < RM; r++) {
            float4 &acc = sc[r * CS + c];
            acc.x += ar[r] * b.x; acc.y += ar[r] * b.y; acc.z += ar[r] * b.z; acc.w += ar[r] * b.w;
          }
        }
      }
    }
    const bool full = j0 + BC - 1 <= r0;
    if (ALIAS) barrier<FENCE>();  // the last score product has read the staging rows
    float rmax[RM];
#pragma unroll
    for (int r = 0; r < RM; r++) {
      rmax[r] = NEG;
      int i = r0 + tr * RM + r;
#pragma unroll
      for (int c = 0; c < CS; c++) {
        float *s = reinterpret_cast<float *>(&sc[r * CS + c]);
#pragma unroll
        for (int e = 0; e < 4; e++) {
          int j = j0 + (tc + TC * c) * 4 + e;
          float x = (full || (i < T && j < T && j <= i)) ? s[e] * scale_log2 : NEG;
          s[e] = x;
          rmax[r] = fmaxf(rmax[r], x);
        }
      }
    }
#pragma unroll
    for (int i = 0; i < RQ; i++) red[tc * (BR / 4) + tr * RQ + i] = make_float4(rmax[4 * i], rmax[4 * i + 1], rmax[4 * i + 2], rmax[4 * i + 3]);
    barrier<FENCE>();
#pragma unroll
    for (int r = 0; r < RM; r++) {
      float mx = m[r];
      for (int t = 0; t < TC; t++) mx = fmaxf(mx, reinterpret_cast<float *>(&red[t * (BR / 4) + tr * RQ + r / 4])[r % 4]);
      float alpha = exp2f(m[r] - mx);
      m[r] = mx;
      float rowsum = 0;
#pragma unroll
      for (int c = 0; c < CS; c++) {
        float *s = reinterpret_cast<float *>(&sc[r * CS + c]);
#pragma unroll
        for (int e = 0; e < 4; e++) {
          float p = s[e] > NEG ? exp2f(s[e] - mx) : 0.0f;
          s[e] = p;
          rowsum += p;
        }
      }
      l[r] = l[r] * alpha + rowsum;
#pragma unroll
      for (int c = 0; c < CO; c++) { o[r * CO + c].x *= alpha; o[r * CO + c].y *= alpha; o[r * CO + c].z *= alpha; o[r * CO + c].w *= alpha; }
    }
#pragma unroll
    for (int c = 0; c < CS; c++) {
#pragma unroll
      for (int e = 0; e < 4; e++) {
        int col = (tc + TC * c) * 4 + e;
#pragma unroll
        for (int i = 0; i < RQ; i++) {
          auto p = [&](int r) { return reinterpret_cast<float *>(&sc[r * CS + c])[e]; };
          sh[PB + (tr * RQ + i) * NCH + col / DK][col % DK] = make_float4(p(4 * i), p(4 * i + 1), p(4 * i + 2), p(4 * i + 3));
        }
      }
    }
    const int jn = min(BC, kend - j0);
    for (int jc = 0; jc < jn; jc += DK) {
      static_assert(DK * D / 4 % WG == 0, "whole natural staging rounds");
      if (!PIPE) fetch_n(j0 + jc, xn);
      barrier<FENCE>();
#pragma unroll
      for (int i = 0; i < NQ; i++) { int p = lid + i * WG; sh[p % (D / 4)][p / (D / 4)] = xn[i]; }
      barrier<FENCE>();
      if (PIPE) {
        if (jc + DK < jn) {
          fetch_n(j0 + jc + DK, xn);
        } else if (j0 + BC < kend) {
          fetch_t(q, BR, r0, nq, HQ, h, 0, xq);
          fetch_t(k, BC, j0 + BC, min(BC, T - (j0 + BC)), HKV, hk, 0, xk);
        }
      }
#pragma unroll
      for (int j = 0; j < DK; j++) {
        float ar[RM];
#pragma unroll
        for (int i = 0; i < RQ; i++) { float4 a = sh[PB + (tr * RQ + i) * NCH + jc / DK][j]; ar[4 * i] = a.x; ar[4 * i + 1] = a.y; ar[4 * i + 2] = a.z; ar[4 * i + 3] = a.w; }
#pragma unroll
        for (int c = 0; c < CO; c++) {
          float4 b = sh[tc + TC * c][j];
#pragma unroll
          for (int r = 0; r < RM; r++) {
            float4 &acc = o[r * CO + c];
            acc.x += ar[r] * b.x; acc.y += ar[r] * b.y; acc.z += ar[r] * b.z; acc.w += ar[r] * b.w;
          }
        }
      }
    }
  }
  barrier<FENCE>();
#pragma unroll
  for (int i = 0; i < RQ; i++) red[tc * (BR / 4) + tr * RQ + i] = make_float4(l[4 * i], l[4 * i + 1], l[4 * i + 2], l[4 * i + 3]);
  barrier<FENCE>();
#pragma unroll
  for (int r = 0; r < RM; r++) {
    int i = r0 + tr * RM + r;
    if (i >= T) continue;
    float lsum = 0;
    for (int t = 0; t < TC; t++) lsum += reinterpret_cast<float *>(&red[t * (BR / 4) + tr * RQ + r / 4])[r % 4];
    float inv = lsum > 0 ? 1.0f / lsum : 0.0f;
#pragma unroll
    for (int c = 0; c < CO; c++) {
      float4 x = o[r * CO + c];
      out[at4(i, HQ, h, (tc + TC * c) * 4)] = make_float4(x.x * inv, x.y * inv, x.z * inv, x.w * inv);
    }
    if (tc == 0) lse[h * T + i] = (m[r] + log2f(lsum)) * 0.6931471805599453f;
  }
}

// Reference: one thread per (query, head), streaming softmax in float, the same causal GQA attention.
__global__ void reference(const float *q, const float *k, const float *v, float *out, int T, int HQ, int HKV, float scale) {
  int idx = blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= T * HQ) return;
  int i = idx / HQ, h = idx % HQ, hk = h / (HQ / HKV);
  const float *qi = q + ((size_t)i * HQ + h) * D;
  float acc[D] = {}, mx = -INFINITY, sum = 0;
  for (int j = 0; j <= i; j++) {
    const float *kj = k + ((size_t)j * HKV + hk) * D, *vj = v + ((size_t)j * HKV + hk) * D;
    float s = 0;
    for (int d = 0; d < D; d++) s += qi[d] * kj[d];
    s *= scale;
    float nm = fmaxf(mx, s), alpha = expf(mx - nm), p = expf(s - nm);
    sum = sum * alpha + p;
    for (int d = 0; d < D; d++) acc[d] = acc[d] * alpha + p * vj[d];
    mx = nm;
  }
  for (int d = 0; d < D; d++) out[((size_t)i * HQ + h) * D + d] = acc[d] / sum;
}

int main(int argc, char **argv) {
  const int T = argc > 1 ? atoi(argv[1]) : 4096;
  const int reps = argc > 2 ? atoi(argv[2]) : 20;
  const int HQ = 16, HKV = 2;
  const float scale = 1.0f / sqrtf((float)D);
  const size_t nq = (size_t)T * HQ * D, nk = (size_t)T * HKV * D;
  std::vector<float> hq(nq), hk(nk), hv(nk);
  unsigned s = 12345;
  auto rnd = [&] { s = s * 1664525u + 1013904223u; return (s >> 8) * (2.0f / 16777216.0f) - 1.0f; };
  for (auto &x : hq) x = rnd();
  for (auto &x : hk) x = rnd();
  for (auto &x : hv) x = rnd();
  float *q, *k, *v, *o, *lse, *want;
  CHECK(cudaMalloc(&q, nq * 4)); CHECK(cudaMalloc(&k, nk * 4)); CHECK(cudaMalloc(&v, nk * 4));
  CHECK(cudaMalloc(&o, nq * 4)); CHECK(cudaMalloc(&want, nq * 4)); CHECK(cudaMalloc(&lse, (size_t)T * HQ * 4));
  CHECK(cudaMemcpy(q, hq.data(), nq * 4, cudaMemcpyHostToDevice));
  CHECK(cudaMemcpy(k, hk.data(), nk * 4, cudaMemcpyHostToDevice));
  CHECK(cudaMemcpy(v, hv.data(), nk * 4, cudaMemcpyHostToDevice));
  reference<<<(T * HQ + 127) / 128, 128>>>(q, k, v, want, T, HQ, HKV, scale);
  CHECK(cudaGetLastError());
  std::vector<float> ref(nq), got(nq);
  CHECK(cudaMemcpy(ref.data(), want, nq * 4, cudaMemcpyDeviceToHost));
  // FlashAttention's count of useful work: 4·D per visible (query, key) pair and head.
  const double flop = 4.0 * D * HQ * ((double)T * (T + 1) / 2);
  printf("T=%d heads %d/%d d %d causal\n", T, HQ, HKV, D);
  auto check = [&](const char *name, auto kernel, int wg = 256, int br = 64) {
    cudaFuncAttributes at;
    CHECK(cudaFuncGetAttributes(&at, kernel));
    dim3 grid((T + br - 1) / br, HQ);
    auto run = [&] { kernel<<<grid, wg>>>((const float4 *)q, (const float4 *)k, (const float4 *)v, (float4 *)o, lse, T, HQ, HKV, scale * 1.4426950408889634f); };
    CHECK(cudaMemset(o, 0xff, nq * 4));
    run();
    CHECK(cudaGetLastError());
    CHECK(cudaMemcpy(got.data(), o, nq * 4, cudaMemcpyDeviceToHost));
    double err = 0;
    for (size_t i = 0; i < nq; i++) err = fmax(err, fabs((double)got[i] - ref[i]));
    float ms = time_ms(run, reps);
    printf("%-16s %3d regs %6zu B smem %.3f ms %.1f TFLOP/s, max abs err %.2e\n", name, at.numRegs, at.sharedSizeBytes, ms, flop / ms / 1e9, err);
  };
  check("fwd dk32", attn_fwd<32, 0>);
  check("fwd dk32 acqrel", attn_fwd<32, 2>);
  check("fwd dk32 acqrel 2/SM", attn_fwd<32, 2, 2>);
  check("fwd dk16", attn_fwd<16, 0>);
  check("fwd dk16 acqrel", attn_fwd<16, 2>);
  check("fwd dk16 acqrel 2/SM", attn_fwd<16, 2, 2>);
  // Larger register tiles: fewer shared-memory reads per fma.
  check("128/8/64/64/32", attn_fwd<32, 0, 1, 128, 8, 64>, 128, 64);
  check("128/8/64/64/16", attn_fwd<16, 0, 1, 128, 8, 64>, 128, 64);
  check("128/16/64/64/32", attn_fwd<32, 0, 1, 128, 16, 64>, 128, 64);
  check("128/16/64/128/16 al", attn_fwd<16, 0, 1, 128, 16, 64, 128, true>, 128, 64);
  check("128/16/64/128/16 al f", attn_fwd<16, 2, 1, 128, 16, 64, 128, true>, 128, 64);
  check("256/16/128/64/16 al", attn_fwd<16, 0, 1, 256, 16, 128, 64, true>, 256, 128);
  // Software pipelining, without and with the fence.
  check("fwd dk32 pipe", attn_fwd<32, 0, 1, 256, 16, 64, 64, false, true>);
  check("fwd dk32 pipe f", attn_fwd<32, 2, 1, 256, 16, 64, 64, false, true>);
  check("fwd dk16 pipe", attn_fwd<16, 0, 1, 256, 16, 64, 64, false, true>);
  check("128/8/64/64/16 pipe", attn_fwd<16, 0, 1, 128, 8, 64, 64, false, true>, 128, 64);
  check("128/8/64/64/16 pipe f", attn_fwd<16, 2, 1, 128, 8, 64, 64, false, true>, 128, 64);
  return 0;
}
