// `mede2 sft` end to end on the bundled demo model: checkpoints, metrics, and a resumed run that
// continues bit-identically to an uninterrupted one (LoRA and full fine-tuning).
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { sft } from '../../src/cli/sft.js';
import { testBackends } from '../helpers/backends.js';

const demo = new URL('../../demo/', import.meta.url).pathname;
const backends = await testBackends();

function dataFile(dir: string): string {
  const lines = readFileSync(`${demo}data/train.jsonl`, 'utf8').split('\n').filter(Boolean).slice(0, 12);
  const path = join(dir, 'train.jsonl');
  writeFileSync(path, lines.join('\n') + '\n');
  writeFileSync(join(dir, 'eval.jsonl'), lines.slice(0, 3).join('\n') + '\n');
  return path;
}

const losses = (out: string) =>
  readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((r) => r.loss !== undefined)
    .map((r) => [r.step, r.loss]);

describe.each(backends)('mede2 sft on $name', ({ name }) => {
  for (const mode of ['lora', 'full'] as const)
    it(`${mode}: a run resumed from checkpoint-2 ends bit-identical to an uninterrupted one`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'mede2-sft-'));
      const data = dataFile(dir);
      const args = (out: string) => [
        '--model', `${demo}model`, '--data', data, '--eval', join(dir, 'eval.jsonl'), '--out', out,
        '--device', name, '--max-steps', '4', '--save-every', '2', '--keep-last', '5', '--batch-tokens', '512', '--grad-accum', '2',
        '--lr', '2e-3', '--warmup-steps', '1', '--max-len', '512', '--seed', '5',
        ...(mode === 'lora' ? ['--lora', 'r=4,alpha=8'] : []),
      ];
      const full = join(dir, 'full');
      await sft.run(args(full));
      expect(readdirSync(full).filter((f) => f.startsWith('checkpoint-')).sort()).toEqual(['checkpoint-2', 'checkpoint-4']);
      const resumed = join(dir, 'resumed');
      cpSync(join(full, 'checkpoint-2'), join(resumed, 'checkpoint-2'), { recursive: true });
      await sft.run([...args(resumed), '--resume', 'latest']);
      const weights = mode === 'lora' ? 'adapter_model.safetensors' : 'model.safetensors';
      const a = readFileSync(join(full, 'checkpoint-4', weights));
      const b = readFileSync(join(resumed, 'checkpoint-4', weights));
      expect(b.equals(a)).toBe(true);
      expect(losses(resumed).filter(([s]) => s > 2)).toEqual(losses(full).filter(([s]) => s > 2));
      expect(readFileSync(join(full, 'loss.svg'), 'utf8')).toContain('<svg');
    });
});
