import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { DEFAULT_LORA } from '../../src/nn/lora.js';
import { OptionsError, SFT_DEFAULTS, parseSftArgs, sftOptionsFrom, sftOptionsUsage } from '../../src/train/options.js';

const base = ['--model', 'models/qwen', '--data', 'train.jsonl', '--out', 'runs/a'];

function configFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'mede2-opts-')), name);
  writeFileSync(path, text);
  return path;
}

async function error(argv: string[]): Promise<string> {
  const e = await parseSftArgs(argv).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(OptionsError);
  return (e as Error).message;
}

describe('sft options', () => {
  it('fills defaults around the required flags', async () => {
    expect(await parseSftArgs(base)).toEqual({ ...SFT_DEFAULTS, model: 'models/qwen', data: 'train.jsonl', out: 'runs/a' });
    expect(SFT_DEFAULTS).toMatchObject({ lr: 1e-5, epochs: 3, batchTokens: 8192, gradAccum: 4, maxLen: 4096, freezeVision: true, truncation: 'right', strict: false });
  });

  it('parses every flag', async () => {
    const o = await parseSftArgs([
      ...base,
      '--eval=eval.jsonl',
      '--lora', 'r=8,alpha=16,dropout=0.05,targets=q_proj|v_proj',
      '--lr', '2e-4',
      '--schedule', 'constant',
      '--epochs', '2',
      '--max-steps', '50',
      '--batch-tokens', '2048',
      '--grad-accum', '2',
      '--max-len', '1024',
      '--warmup-steps', '5',
      '--weight-decay', '0.1',
      '--max-grad-norm', '0',
      '--seed', '123',
      '--save-every', '10',
      '--eval-every', '25',
      '--keep-last', '1',
      '--strict',
      '--truncation', 'drop',
      '--no-freeze-vision',
      '--template', 'R: {reasoning}\\nA: {answer}',
      '--device', 'wasm',
      '--resume', 'latest',
    ]);
    expect(o).toEqual({
      model: 'models/qwen',
      data: 'train.jsonl',
      eval: 'eval.jsonl',
      out: 'runs/a',
      lora: { r: 8, alpha: 16, dropout: 0.05, targetModules: ['q_proj', 'v_proj'], useRslora: false },
      lr: 2e-4,
      schedule: 'constant',
      epochs: 2,
      maxSteps: 50,
      batchTokens: 2048,
      gradAccum: 2,
      maxLen: 1024,
      warmup: { steps: 5 },
      weightDecay: 0.1,
      maxGradNorm: 0,
      seed: 123,
      saveEvery: 10,
      evalEvery: 25,
      keepLast: 1,
      strict: true,
      truncation: 'drop',
      freezeVision: false,
      template: 'R: {reasoning}\nA: {answer}',
      device: 'wasm',
      resume: 'latest',
    });
    expect((await parseSftArgs([...base, '--freeze-vision', 'false', '--strict=true'])).freezeVision).toBe(false);
    expect((await parseSftArgs([...base, '--lora', 'r=4'])).lora).toEqual({ ...DEFAULT_LORA, r: 4 });
    expect((await parseSftArgs([...base, '--warmup-ratio', '0.1'])).warmup).toEqual({ ratio: 0.1 });
  });

  it('reads a YAML or JSON config, any key spelling, with the command line winning', async () => {
    const yaml = configFile(
      'sft.yaml',
      [
        'model: models/qwen',
        'data: train.jsonl',
        'out: runs/y',
        'batch_tokens: 4096',
        'maxLen: 2048',
        'lr: 3e-5',
        'warmup_ratio: 0.05',
        'lora:',
        '  r: 32',
        '  alpha: 64',
        '  target_modules: [q_proj, k_proj]',
        'freeze-vision: false',
      ].join('\n'),
    );
    const o = await parseSftArgs(['--config', yaml, '--lr', '1e-4', '--out', 'runs/cli', '--warmup-steps', '2']);
    expect(o).toMatchObject({ model: 'models/qwen', out: 'runs/cli', batchTokens: 4096, maxLen: 2048, lr: 1e-4, warmup: { steps: 2 }, freezeVision: false });
    expect(o.lora).toEqual({ r: 32, alpha: 64, dropout: 0, targetModules: ['q_proj', 'k_proj'], useRslora: false });
    expect((await parseSftArgs(['--config', yaml])).warmup).toEqual({ ratio: 0.05 });
    expect((await parseSftArgs(['--config', yaml, '--lora', 'none'])).lora).toBeUndefined();
    const json = configFile('sft.json', JSON.stringify({ model: 'm', data: 'd', out: 'o', epochs: 1, lora: true, strict: true }));
    expect(await parseSftArgs(['--config', json, '--no-strict'])).toMatchObject({ epochs: 1, lora: DEFAULT_LORA, strict: false });
    expect(sftOptionsFrom({ model: 'm', data: 'd', out: 'o', gradAccum: 8 }, 'form').gradAccum).toBe(8);
  });

  it('names the flag or the file key of every bad value', async () => {
    expect(await error([...base, '--lr', 'fast'])).toBe("--lr expects a number > 0, got 'fast'");
    expect(await error([...base, '--epochs', '1.5'])).toBe("--epochs expects an integer ≥ 1, got '1.5'");
    expect(await error([...base, '--warmup-ratio', '1'])).toBe("--warmup-ratio expects a ratio in [0, 1), got '1'");
    expect(await error([...base, '--truncation', 'left'])).toBe("--truncation expects right or drop, got 'left'");
    expect(await error([...base, '--device', 'cuda'])).toBe("--device expects auto or webgpu or wasm, got 'cuda'");
    expect(await error([...base, '--strict', '--freeze-vision=maybe'])).toBe("--freeze-vision expects true or false, got 'maybe'");
    expect(await error([...base, '--lora', 'r=16,beta=2'])).toBe("--lora: unknown key 'beta' (expected r, alpha, dropout, targets, rslora)");
    expect(await error([...base, '--lora', 'r=0'])).toBe("--lora r expects an integer ≥ 1, got '0'");
    expect(await error([...base, '--lora', 'r16'])).toMatch(/^--lora expects key=value pairs/);
    expect(await error([...base, '--template', 'just {reasoning}'])).toMatch(/^--template expects a template with an \{answer\} placeholder/);
    expect(await error([...base, '--lrr', '1'])).toBe('unknown option --lrr (mede2 sft --help lists them)');
    expect(await error([...base, '--lr'])).toBe('--lr needs a value');
    expect(await error([...base, 'extra'])).toBe("unexpected argument 'extra' (options are --name value)");
    expect(await error([...base, '--seed', '1', '--seed', '2'])).toBe('--seed is given twice');
    expect(await error(['--data', 'd', '--out', 'o'])).toBe("--model is required (or 'model' in the --config file)");
    expect(await error([...base, '--warmup-steps', '1', '--warmup-ratio', '0.1'])).toBe('give --warmup-steps or --warmup-ratio, not both');
    expect(await error([...base, '--max-len', '9000'])).toMatch(/--max-len 9000 is more than --batch-tokens 8192/);
    const yaml = configFile('bad.yaml', 'model: m\nbatch_size: 4\n');
    expect(await error(['--config', yaml])).toBe(`${yaml}: unknown option 'batch_size' (options are the flags of mede2 sft, e.g. 'batch_tokens' or 'batch-tokens')`);
    const typed = configFile('typed.yaml', 'model: m\ndata: d\nout: o\ngrad_accum: two\n');
    expect(await error(['--config', typed])).toBe(`${typed}: 'grad_accum' expects an integer ≥ 1, got 'two'`);
    const broken = configFile('broken.yaml', 'model: [unclosed\n');
    expect(await error(['--config', broken])).toMatch(/broken\.yaml: not valid YAML/);
    expect(await error(['--config', configFile('x.json', '{nope')])).toMatch(/x\.json: not valid JSON/);
    expect(await error(['--config', configFile('x.toml', 'a=1')])).toMatch(/expected a \.yaml, \.yml or \.json file/);
    expect(await error(['--config', configFile('list.yaml', '- a\n- b\n')])).toMatch(/expected a map of options at the top level/);
    expect(await error(['--config', '/nonexistent/sft.yaml'])).toMatch(/--config \/nonexistent\/sft\.yaml: cannot read it/);
  });

  it('lists every flag in its usage text', () => {
    const usage = sftOptionsUsage();
    for (const flag of ['--config FILE', '--model DIR', '--lora SPEC', '--warmup-ratio X', '--[no-]freeze-vision', '--[no-]strict', '--resume DIR'])
      expect(usage).toContain(flag);
  });
});
