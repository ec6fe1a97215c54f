// GPU time per kernel (timestamp queries around every dispatch, src/backend/webgpu/profiler.ts) for
// one Stage-I training step of each bench/sft.ts shape and one attention forward+backward at 4k:
// where the time goes, for the performance notes. Needs `timestamp-query`; set
// MEDE2_DAWN_FLAGS=disable-dawn-features=timestamp_quantization for unrounded times.
import type { Backend } from '../src/backend/backend.js';
import type { WebGpuBackend } from '../src/backend/webgpu/backend.js';
import type { KernelTime } from '../src/backend/webgpu/profiler.js';
import { Runtime } from '../src/tensor/runtime.js';
import { GPU_SHAPES, WASM_SHAPES, problem } from './attention.js';
import { sftShapes, sftStep } from './sft.js';
import type { Row, SuiteOutput } from './suite.js';

/** Kernels listed per workload; the rest are summed into one row. */
const TOP = 60;

function rowsOf(workload: string, times: KernelTime[]): Row[] {
  const total = times.reduce((s, t) => s + t.ms, 0);
  const rows: Row[] = times.slice(0, TOP).map((t) => ({ workload, kernel: t.label.slice(0, 120), calls: t.calls, ms: t.ms, share: t.ms / total }));
  const rest = times.slice(TOP);
  const restMs = rest.reduce((s, t) => s + t.ms, 0);
  if (rest.length) rows.push({ workload, kernel: `(${rest.length} other kernels)`, calls: rest.reduce((n, t) => n + t.calls, 0), ms: restMs, share: restMs / total });
  rows.push({ workload, kernel: '(total GPU time)', calls: times.reduce((n, t) => n + t.calls, 0), ms: total, share: 1 });
  return rows;
}

export async function profileSuite(backend: Backend): Promise<SuiteOutput> {
  if (backend.info.kind !== 'webgpu') return { timing: 'profiles need WebGPU timestamp queries: nothing measured on wasm', rows: [] };
  const ctx = (backend as WebGpuBackend).ctx;
  const rows: Row[] = [];
  const rt = new Runtime(backend);
  for (const shape of sftShapes(backend)) {
    const { model, trainer } = await sftStep(rt, shape);
    for (let i = 0; i < 2; i++) await trainer.train(); // pipelines compiled, pool and bind groups warm
    ctx.startProfile();
    await trainer.train();
    rows.push(...rowsOf(`sft ${shape}`, await ctx.endProfile()));
    trainer.optimizer.dispose();
    model.release();
    backend.trim();
  }
  const shape = backend.info.software ? WASM_SHAPES[0] : GPU_SHAPES.find((s) => s.name === 'llm 4k causal')!;
  const p = problem(backend, shape);
  backend.attention(p.args);
  backend.attentionGrad(p.args);
  await backend.sync();
  ctx.startProfile();
  backend.attention(p.args);
  backend.attentionGrad(p.args);
  rows.push(...rowsOf(`attention ${shape.name}`, await ctx.endProfile()));
  p.free();
  const quantized = !/timestamp_quantization/.test(process.env.MEDE2_DAWN_FLAGS ?? '');
  return { timing: `timestamp-query around each dispatch (one pass per dispatch), one step after 2 warm-up steps${quantized ? '; Dawn timestamp quantization on' : ''}`, rows };
}
