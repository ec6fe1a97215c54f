import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { preprocess } from '../../src/cli/preprocess.js';
import { UsageError } from '../../src/cli/command.js';
import { readSafetensors, tensorArray } from '../../src/io/safetensors.js';
import { manifest } from './fixtures.js';
import { runCommand } from '../helpers/cli.js';

const fixtures = join(__dirname, '../fixtures/images');
const dir = mkdtempSync(join(tmpdir(), 'mede2-preprocess-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = async (argv: string[]): Promise<string> => (await runCommand(preprocess, argv)).join('\n');

describe('mede2 preprocess', () => {
  it('writes pixel_values and image_grid_thw identical to transformers', async () => {
    const c = manifest.qwen.find((q: { name: string }) => q.name === 'down_300x200');
    const config = join(dir, 'preprocessor_config.json');
    writeFileSync(config, JSON.stringify(manifest.qwen_default_config));
    const out = join(dir, 'down.safetensors');
    const line = await run(['--image', join(fixtures, c.file), '--config', dir, '--max-pixels', String(c.kwargs.max_pixels), '--out', out]);
    expect(line).toContain('grid [1, 6, 8]');
    const { tensors } = readSafetensors(new Uint8Array(readFileSync(out)));
    const pv = tensors.get('pixel_values')!;
    expect([pv.dtype, pv.shape]).toEqual(['F32', c.shape]);
    expect(createHash('sha256').update(pv.data).digest('hex')).toBe(c.sha256);
    const grid = tensors.get('image_grid_thw')!;
    expect([grid.dtype, grid.shape, Array.from(tensorArray(grid) as BigInt64Array)]).toEqual(['I64', [1, 3], [1n, 6n, 8n]]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('passes DICOM frame and window through', async () => {
    const out = join(dir, 'ct.safetensors');
    await run(['--image', join(fixtures, 'dicom/multiframe_native.dcm'), '--frame', '2', '--window-center', '1200', '--window-width', '1600', '--out', out]);
    expect(readSafetensors(new Uint8Array(readFileSync(out))).tensors.get('image_grid_thw')!.shape).toEqual([1, 3]);
  });

  it('reports usage errors and unreadable inputs clearly', async () => {
    await expect(run(['--out', 'x'])).rejects.toThrow(UsageError);
    await expect(run(['--image', 'a.png'])).rejects.toThrow(/--out is required/);
    await expect(run(['--image', 'a.png', '--out', 'x', '--window-center', '3'])).rejects.toThrow(/go together/);
    await expect(run(['--image', join(dir, 'missing.png'), '--out', join(dir, 'o.safetensors')])).rejects.toThrow(/cannot read --image '.*missing\.png'.*ENOENT/);
    await expect(run(['--image', join(fixtures, 'png/pil_RGB.png'), '--out', join(dir, 'no/such/dir/o.safetensors')])).rejects.toThrow(/cannot write/);
  });
});
