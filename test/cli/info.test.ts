// `mede2 info` says which tuning tables the WebGPU adapter runs with: the built-in ones, or tables
// measured on it (MEDE2_MATMUL_TUNING / MEDE2_ATTENTION_TUNING); the CPU backend has none.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { info } from '../../src/cli/info.js';
import { MATMUL_TUNING } from '../../src/backend/webgpu/kernels/matmul-tuning.js';
import { testBackends } from '../helpers/backends.js';
import { runCommand } from '../helpers/cli.js';

const gpu = (await testBackends()).find((b) => b.name === 'webgpu')?.backend;
const dir = mkdtempSync(join(tmpdir(), 'mede2-info-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What `mede2 info` prints for these arguments. */
const infoLines = async (argv: string[]): Promise<string> => (await runCommand(info, argv)).join('\n');

describe('mede2 info', () => {
  afterEach(() => {
    delete process.env.MEDE2_MATMUL_TUNING;
    delete process.env.MEDE2_ATTENTION_TUNING;
  });

  // A registered table stays registered for the process, so the built-in case runs first.
  it.runIf(gpu)('names the built-in tables where none was measured on the adapter', async () => {
    const text = await infoLines(['--device', 'webgpu']);
    expect(text).toContain(`tuning:   matrix products: built in, measured on ${MATMUL_TUNING.adapter}`);
    expect(text).toContain('attention tiles: built in, measured on an H100');
  });

  it.runIf(gpu)('names the tables measured on the adapter, with their dates, in text and JSON', async () => {
    const adapter = gpu!.info.description;
    const write = (name: string, table: object) => {
      const path = join(dir, name);
      writeFileSync(path, JSON.stringify(table));
      return path;
    };
    process.env.MEDE2_MATMUL_TUNING = write('m.json', { adapter, date: '2026-11-26T01:00Z', source: 'test', shapes: [] });
    process.env.MEDE2_ATTENTION_TUNING = write('a.json', { adapter, date: '2026-11-26T02:00Z', source: 'test', tiles: { fwd: { 64: { wg: 128, tc: 16, br: 32, bc: 64, dk: 16 } } } });
    const text = await infoLines(['--device', 'webgpu']);
    expect(text).toContain('matrix products: a table measured on this adapter (2026-11-26T01:00Z)');
    expect(text).toContain('attention tiles: a table measured on this adapter (2026-11-26T02:00Z)');
    const json = JSON.parse(await infoLines(['--device', 'webgpu', '--json']));
    expect(json.tuning).toEqual({
      matmul: { measuredHere: true, adapter, date: '2026-11-26T01:00Z' },
      attention: { measuredHere: true, adapter, date: '2026-11-26T02:00Z' },
    });
  });

  it('prints no tuning for the CPU backend', async () => {
    const text = await infoLines(['--device', 'wasm']);
    expect(text).toContain('backend:  wasm');
    expect(text).not.toContain('tuning:');
  });
});
