// The in-memory file system of the page's training worker: the Platform file methods with Node's
// semantics (error codes included), so checkpoints, adapters and metrics written through it are
// the folders `mede2 sft` writes on disk.
import { describe, expect, it } from 'vitest';
import { MemoryFiles } from '../../src/platform/memory.js';
import { setPlatform } from '../../src/platform/platform.js';
import { browserPlatform } from '../../src/platform/browser.js';
import { checkpointName, latestCheckpoint, listCheckpoints, readCheckpoint, rotateCheckpoints, saveCheckpoint, type TrainingState } from '../../src/train/checkpoint.js';
import { MetricsLog } from '../../src/train/metrics.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('MemoryFiles', () => {
  it('reads picked Blobs whole and by range, and written bytes', async () => {
    const m = new MemoryFiles();
    const fs = m.platform();
    m.put('model/config.json', new Blob(['{"a": 1}']));
    m.put('/model//weights.bin', bytes('0123456789'));
    expect(text(await fs.readFile('model/config.json'))).toBe('{"a": 1}');
    expect(text(await fs.readRange('model/weights.bin', 2, 5))).toBe('234');
    expect(text(await fs.readRange('./model/config.json', 1, 3))).toBe('"a');
    expect(await fs.fileSize('model/weights.bin')).toBe(10);
    expect(await fs.isFile('model/config.json')).toBe(true);
    expect(await fs.isFile('model')).toBe(false);
    await expect(fs.readRange('model/weights.bin', 5, 11)).rejects.toThrow(/ends at byte 10, expected data up to 11/);
    await expect(fs.readFile('model/missing.json')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(fs.readFile('model')).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(fs.readFile('../etc/passwd')).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('lists, appends, renames folders and removes them', async () => {
    const m = new MemoryFiles();
    const fs = m.platform();
    await fs.mkdirp('out/a/b');
    await fs.writeFileAtomic('out/a/b/x.txt', bytes('x'));
    await fs.appendFile('out/log.jsonl', bytes('1\n'));
    await fs.appendFile('out/log.jsonl', bytes('2\n'));
    expect(text(await fs.readFile('out/log.jsonl'))).toBe('1\n2\n');
    expect((await fs.listDir('out')).sort((p, q) => p.name.localeCompare(q.name))).toEqual([
      { name: 'a', kind: 'dir' },
      { name: 'log.jsonl', kind: 'file' },
    ]);
    await expect(fs.listDir('nowhere')).rejects.toMatchObject({ code: 'ENOENT' });
    await fs.rename('out/a', 'out/c');
    expect(m.list('out').map(([p]) => p)).toEqual(['c/b/x.txt', 'log.jsonl']);
    await expect(fs.listDir('out/a')).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await fs.listDir('out/c')).map((e) => e.name)).toEqual(['b']);
    await fs.remove('out/c');
    await fs.remove('out/never-was');
    expect(m.list('out').map(([p]) => p)).toEqual(['log.jsonl']);
    await expect(fs.mkdirp('out/log.jsonl/sub')).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it('holds checkpoints and metrics the way the CLI writes them on disk', async () => {
    const m = new MemoryFiles();
    setPlatform({ ...browserPlatform, ...m.platform() });
    const state = (step: number): TrainingState => ({
      step,
      epoch: step / 4,
      data: { epoch: 0, index: step, rngState: 9 },
      rng: 7,
      optimizer: { step, m: [Float32Array.of(step, -0)], v: [Float32Array.of(NaN, 1e-30)] },
      scheduler: { kind: 'cosine', baseLr: 1e-3, warmupSteps: 1, totalSteps: 8 },
      config: { lr: 1e-3 },
    });
    for (const step of [2, 4, 6]) await saveCheckpoint('out', state(step), async (dir) => m.put(`${dir}/adapter_model.safetensors`, bytes(`w${step}`)));
    await saveCheckpoint('out', state(4), async (dir) => m.put(`${dir}/adapter_model.safetensors`, bytes('w4 again')));
    expect((await listCheckpoints('out')).map((c) => c.step)).toEqual([2, 4, 6]);
    expect(await rotateCheckpoints('out', 2)).toEqual([`out/${checkpointName(2)}`]);
    expect((await latestCheckpoint('out'))!.path).toBe('out/checkpoint-6');
    expect(m.list('out/checkpoint-4').map(([p, d]) => [p, text(d as Uint8Array).slice(0, 8)])).toEqual([
      ['adapter_model.safetensors', 'w4 again'],
      ['training_state.bin', 'mede2-ts'],
    ]);
    const back = await readCheckpoint('out/checkpoint-4');
    expect(back.step).toBe(4);
    expect(Object.is(back.optimizer.m[0][1], -0)).toBe(true);

    const log = await MetricsLog.open('out/metrics.jsonl');
    await log.append({ step: 1, loss: 2.5 });
    await log.append({ step: 2, loss: 2.25 });
    const resumed = await MetricsLog.open('out/metrics.jsonl', { resumeStep: 1 });
    expect(resumed.records).toEqual([{ step: 1, loss: 2.5 }]);
  });
});
