// createBackend: a WebGPU backend loads the tuning tables MEDE2_MATMUL_TUNING and
// MEDE2_ATTENTION_TUNING name (Node), and a bad one is an error naming the file and the variable;
// the CPU backend never reads them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backend/select.js';
import { tuningFor, useMatmulTuning, type MatmulTuning } from '../../src/backend/webgpu/kernels/matmul.js';
import { attentionTile, attentionTuningFor, useAttentionTuning, type AttentionTuning } from '../../src/backend/webgpu/kernels/attention.js';
import { MATMUL_TUNING } from '../../src/backend/webgpu/kernels/matmul-tuning.js';
import { testBackends } from '../helpers/backends.js';

const gpu = (await testBackends()).find((b) => b.name === 'webgpu')?.backend;

const dir = mkdtempSync(join(tmpdir(), 'mede2-tuning-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('MEDE2_MATMUL_TUNING', () => {
  afterEach(() => {
    delete process.env.MEDE2_MATMUL_TUNING;
    if (gpu) useMatmulTuning({ ...MATMUL_TUNING, adapter: gpu.info.description }); // as if none were loaded
  });

  it.runIf(gpu)('a WebGPU backend plans by the tables it names, measured on its adapter', async () => {
    const adapter = gpu!.info.description;
    const mine: MatmulTuning = { adapter, date: '2026-11-26', source: 'test', shapes: [{ m: 300, n: 200, k: 512, batch: 1, transA: false, transB: true, bDtype: 'f32', variant: '64x64k8t64', vec: true, gflops: 5 }] };
    const other: MatmulTuning = { ...mine, adapter: 'another GPU' };
    process.env.MEDE2_MATMUL_TUNING = `${file('mine.json', JSON.stringify(mine))}, ${file('other.json', JSON.stringify(other))}`;
    const { backend } = await createBackend('webgpu');
    try {
      expect(tuningFor(adapter)).toEqual(mine);
      expect(tuningFor('another GPU')).toEqual(other);
    } finally {
      backend.destroy();
    }
  });

  it.runIf(gpu)('a table that cannot be read, is not JSON or has a bad field is an error naming the file', async () => {
    const missing = join(dir, 'missing.json');
    process.env.MEDE2_MATMUL_TUNING = missing;
    await expect(createBackend('webgpu')).rejects.toThrow(`${missing} (MEDE2_MATMUL_TUNING): cannot read it: ENOENT`);
    const notJson = file('not.json', '{ adapter: ');
    process.env.MEDE2_MATMUL_TUNING = notJson;
    await expect(createBackend('webgpu')).rejects.toThrow(`${notJson} (MEDE2_MATMUL_TUNING): not JSON`);
    const bad = file('bad.json', JSON.stringify({ ...MATMUL_TUNING, shapes: [{ ...MATMUL_TUNING.shapes[0], m: -1 }] }));
    process.env.MEDE2_MATMUL_TUNING = bad;
    await expect(createBackend('webgpu')).rejects.toThrow(`${bad} (MEDE2_MATMUL_TUNING): shapes[0].m must be a positive integer, got -1`);
  });

  it('the CPU backend does not read them', async () => {
    process.env.MEDE2_MATMUL_TUNING = join(dir, 'missing.json');
    const { backend } = await createBackend('wasm');
    expect(backend.info.kind).toBe('wasm');
    backend.destroy();
  });
});

describe('MEDE2_ATTENTION_TUNING', () => {
  afterEach(() => {
    delete process.env.MEDE2_ATTENTION_TUNING;
    if (gpu) useAttentionTuning({ adapter: gpu.info.description, date: '', source: 'none', tiles: {} }); // as if none were loaded
  });
  const tile = { wg: 64, tc: 16, br: 16, bc: 64, dk: 16 };

  it.runIf(gpu)('a WebGPU backend runs attention with the tiles of the table measured on its adapter', async () => {
    const adapter = gpu!.info.description;
    const mine: AttentionTuning = { adapter, date: '2026-11-26', source: 'test', tiles: { dq: { 64: tile } } };
    const other: AttentionTuning = { ...mine, adapter: 'another GPU', tiles: { fwd: { 128: tile } } };
    process.env.MEDE2_ATTENTION_TUNING = `${file('mine.json', JSON.stringify(mine))},${file('other.json', JSON.stringify(other))}`;
    const { backend } = await createBackend('webgpu');
    try {
      expect(attentionTuningFor(adapter)).toEqual(mine);
      expect(attentionTile('dq', 64, adapter)).toEqual(tile);
      expect(attentionTile('fwd', 128, adapter)).not.toEqual(tile);
      expect(attentionTuningFor('another GPU')).toEqual(other);
    } finally {
      backend.destroy();
    }
  });

  it.runIf(gpu)('a table with a tile the shader cannot run is an error naming the file, the variable and the field', async () => {
    const bad = file('bad.json', JSON.stringify({ adapter: 'x', date: '', source: 'test', tiles: { fwd: { 64: { ...tile, dk: 24 } } } }));
    process.env.MEDE2_ATTENTION_TUNING = bad;
    await expect(createBackend('webgpu')).rejects.toThrow(`${bad} (MEDE2_ATTENTION_TUNING): tiles.fwd.64 {"wg":64,"tc":16,"br":16,"bc":64,"dk":24} cannot run: dk must be 16 or 32 and divide bc`);
  });

  it('the CPU backend does not read them', async () => {
    process.env.MEDE2_ATTENTION_TUNING = join(dir, 'missing.json');
    const { backend } = await createBackend('wasm');
    expect(backend.info.kind).toBe('wasm');
    backend.destroy();
  });
});
