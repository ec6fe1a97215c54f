// `mede2 sft`: Stage I ("elicit") — supervised fine-tuning of a Qwen2-VL/Qwen2.5-VL folder on a
// JSONL of reasoning demonstrations, full or LoRA, with checkpoints that resume bit-identically.
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { Runtime } from '../tensor/runtime.js';
import { dirFileSet } from '../io/fileset.js';
import { Tokenizer } from '../text/index.js';
import type { Qwen2VLImageProcessor } from '../vision/index.js';
import { platform } from '../platform/platform.js';
import { formatIssue, type DataIssue, type SftSample } from '../train/data/index.js';
import { OptionsError, parseSftArgs, sftOptionsUsage, type SftOptions } from '../train/options.js';
import { SftTrainer } from '../train/sft.js';
import { imageProcessorFor, loadSftModel, pixelSource, readSftDataset, saveSftWeights, stepMetrics } from '../train/stage1.js';
import { Progress } from '../train/progress.js';
import { MetricsLog, writeLossCurve } from '../train/metrics.js';
import { latestCheckpoint, readCheckpoint, rotateCheckpoints, saveCheckpoint } from '../train/checkpoint.js';

function reportIssues(issues: DataIssue[]): void {
  for (const issue of issues.slice(0, 20)) console.warn(`skipped ${formatIssue(issue)}`);
  if (issues.length > 20) console.warn(`… and ${issues.length - 20} more skipped lines`);
}

async function dataset(path: string, opts: SftOptions, tokenizer: Tokenizer, processor: Qwen2VLImageProcessor, role: string): Promise<SftSample[]> {
  const d = await readSftDataset(path, opts, tokenizer, processor);
  reportIssues(d.issues);
  console.log(`${role}: ${d.samples.length} samples from ${path} (${d.issues.length} skipped, ${d.truncated} truncated, ${d.dropped} dropped over --max-len ${opts.maxLen})`);
  return d.samples;
}

export const sft: Command = {
  name: 'sft',
  summary: 'Stage I: supervised fine-tuning on reasoning demonstrations (full or LoRA)',
  usage: `usage: mede2 sft --model DIR --data train.jsonl --out DIR [options]\n\n${sftOptionsUsage()}`,
  async run(argv) {
    let opts: SftOptions;
    try {
      opts = await parseSftArgs(argv);
    } catch (e) {
      if (e instanceof OptionsError) throw new UsageError(e.message);
      throw e;
    }
    const rt = await Runtime.create(opts.device);
    console.log(`backend: ${rt.backend.info.kind} — ${rt.backend.info.description}`);
    const base = dirFileSet(opts.model);

    let resumeDir: string | undefined;
    if (opts.resume) {
      resumeDir = opts.resume === 'latest' ? (await latestCheckpoint(opts.out))?.path : opts.resume;
      if (!resumeDir) throw new Error(`--resume latest: no complete checkpoint in ${opts.out}`);
    }
    const state = resumeDir ? await readCheckpoint(resumeDir) : undefined;
    const model = await loadSftModel(rt, opts, base, resumeDir);
    const tokenizer = await Tokenizer.fromFile(opts.model);
    const processor = await imageProcessorFor(base);
    const train = await dataset(opts.data, opts, tokenizer, processor, 'train');
    const evalSet = opts.eval ? await dataset(opts.eval, opts, tokenizer, processor, 'eval') : undefined;

    const trainer = new SftTrainer(model, train, opts, pixelSource(processor));
    if (state) {
      trainer.restore(state);
      console.log(`resumed from ${resumeDir} at step ${state.step}`);
    }
    const trainable = model.trainable().reduce((s, t) => s + t.size, 0);
    console.log(`${opts.lora ? `LoRA r=${opts.lora.r}` : 'full fine-tuning'}: ${trainable} trainable parameters, ${trainer.totalSteps} steps`);
    await platform().mkdirp!(opts.out);
    const metrics = await MetricsLog.open(`${opts.out}/metrics.jsonl`, { resumeStep: state?.step });
    const progress = new Progress(trainer.totalSteps);
    const config = { ...opts } as unknown as Record<string, unknown>;
    let lastSaved = state?.step ?? -1;
    const checkpoint = async () => {
      const dir = await saveCheckpoint(opts.out, await trainer.state(config), (d) => saveSftWeights(model, d, base));
      await rotateCheckpoints(opts.out, opts.keepLast);
      lastSaved = trainer.step;
      console.log(`saved ${dir}`);
    };
    let lastEval = -1;
    const evaluate = async () => {
      if (!evalSet) return;
      lastEval = trainer.step;
      const { loss } = await trainer.evaluate(evalSet);
      await metrics.append({ step: trainer.step, eval_loss: loss });
      console.log(`eval loss ${loss.toFixed(4)} at step ${trainer.step}`);
    };
    const tty = typeof process !== 'undefined' && process.stdout.isTTY;
    let epoch = Math.floor(trainer.position.epoch);
    while (!trainer.done) {
      const r = await trainer.train();
      const line = progress.line(r);
      if (tty) process.stdout.write(`\r${line}\x1b[K`);
      else if (r.step % 10 === 0 || trainer.done) console.log(line);
      await metrics.append(stepMetrics(r));
      if (tty && (opts.saveEvery && r.step % opts.saveEvery === 0)) process.stdout.write('\n');
      const crossed = Math.floor(trainer.position.epoch) > epoch;
      epoch = Math.floor(trainer.position.epoch);
      if (opts.evalEvery ? r.step % opts.evalEvery === 0 : crossed) await evaluate();
      if (opts.saveEvery && r.step % opts.saveEvery === 0) await checkpoint();
    }
    if (tty) process.stdout.write('\n');
    if (lastSaved !== trainer.step) await checkpoint();
    if (lastEval !== trainer.step) await evaluate();
    await writeLossCurve(`${opts.out}/loss.svg`, metrics.records, 'Stage I (SFT)');
    console.log(`done: ${trainer.step} steps, ${progress.tokensPerSecond.toFixed(0)} tok/s; metrics in ${opts.out}/metrics.jsonl, curve in ${opts.out}/loss.svg`);
    trainer.optimizer.dispose();
    model.release();
    rt.backend.destroy();
  },
};
