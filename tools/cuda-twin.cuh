// What the CUDA twins (tools/sgemm-twin, tools/attention-twin) share: failing loudly on a CUDA
// error, and timing a launch as the mean of `reps` back-to-back runs after 3 warm-up runs.
#pragma once
#include <cstdio>
#include <cstdlib>

#define CHECK(x) do { auto rc_ = (x); if (rc_ != 0) { fprintf(stderr, "%s:%d: %s failed (%d)\n", __FILE__, __LINE__, #x, (int)rc_); exit(1); } } while (0)

template <typename F>
static float time_ms(F run, int reps) {
  cudaEvent_t a, b;
  CHECK(cudaEventCreate(&a));
  CHECK(cudaEventCreate(&b));
  for (int i = 0; i < 3; i++) run();
  CHECK(cudaEventRecord(a));
  for (int i = 0; i < reps; i++) run();
  CHECK(cudaEventRecord(b));
  CHECK(cudaEventSynchronize(b));
  float ms;
  CHECK(cudaEventElapsedTime(&ms, a, b));
  return ms / reps;
}
