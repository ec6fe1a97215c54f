// `mede2 demo`: Stage I ("elicit") end to end on the bundled tiny Qwen2.5-VL and the bundled
// text-only medical reasoning cases: eval loss and answer accuracy before, supervised
// fine-tuning on <think>…</think><answer>…</answer> replies, then both again.
import { fileURLToPath } from 'node:url';
import type { Command } from './command.js';
import { numberOption, parseCommandArgs } from './args.js';
import { parseDeviceChoice } from '../backend/select.js';
import { Runtime } from '../tensor/runtime.js';
import { dirFileSet } from '../io/fileset.js';
import { loadQwenVL } from '../models/qwen2vl/load.js';
import { Tokenizer } from '../text/index.js';
import { readSftJsonl, tokenizeSft, formatIssue } from '../train/data/index.js';
import { SftTrainer } from '../train/sft.js';
import { Progress, fmtDuration } from '../train/progress.js';
import { answerAccuracy, answerCases } from '../eval/answers.js';

const DEMO = fileURLToPath(new URL('../../demo/', import.meta.url));

export const demo: Command = {
  name: 'demo',
  summary: 'Stage I on the bundled tiny Qwen2.5-VL: accuracy before and after SFT on medical reasoning cases',
  usage: 'usage: mede2 demo [--device auto|webgpu|wasm] [--epochs 1] [--lr 2e-3] [--eval-cases 60]',
  async run(argv) {
    const { values } = parseCommandArgs(argv, { device: { type: 'string' }, epochs: { type: 'string' }, lr: { type: 'string' }, 'eval-cases': { type: 'string' } });
    const epochs = numberOption('epochs', values.epochs, 1)!;
    const lr = numberOption('lr', values.lr, 2e-3)!;
    const nEval = numberOption('eval-cases', values['eval-cases'], 60)!;
    const t0 = performance.now();
    const rt = await Runtime.create(parseDeviceChoice(values.device));
    console.log(`backend: ${rt.backend.info.kind} — ${rt.backend.info.description}`);
    const model = await loadQwenVL(rt, dirFileSet(`${DEMO}model`), { freeze: { vision: true, merger: true } });
    const tokenizer = await Tokenizer.fromFile(`${DEMO}model`);
    const train = await readSftJsonl(`${DEMO}data/train.jsonl`);
    const evalData = await readSftJsonl(`${DEMO}data/eval.jsonl`);
    for (const issue of [...train.issues, ...evalData.issues]) console.warn(formatIssue(issue));
    const tok = (examples: typeof train.examples) => tokenizeSft(examples, tokenizer, { maxLen: 512, truncation: 'right' });
    const trainSet = tok(train.examples);
    const evalSet = tok(evalData.examples);
    const params = model.trainable().reduce((s, t) => s + t.size, 0);
    console.log(`model: tiny Qwen2.5-VL, ${params} trainable parameters (vision frozen); data: ${trainSet.samples.length} training cases, ${evalSet.samples.length} eval cases`);

    const trainer = new SftTrainer(model, trainSet.samples, {
      lr,
      schedule: 'cosine',
      epochs,
      batchTokens: 1024,
      gradAccum: 1,
      warmup: { ratio: 0.05 },
      weightDecay: 0,
      maxGradNorm: 1,
      seed: 42,
    });
    const cases = answerCases(evalData.examples).slice(0, nEval);
    const measure = async (label: string) => {
      const { loss } = await trainer.evaluate(evalSet.samples);
      const { accuracy, results } = await answerAccuracy(model, tokenizer, cases, { maxNewTokens: 96 });
      const formed = results.filter((r) => r.got !== null).length / Math.max(1, results.length);
      console.log(`${label}: eval loss ${loss.toFixed(4)}, answer accuracy ${(100 * accuracy).toFixed(1)}% on ${cases.length} cases, ${(100 * formed).toFixed(0)}% of replies end in an <answer>`);
      console.log(`  sample reply: ${JSON.stringify(results[0]?.text.slice(0, 240))}`);
      return { loss, accuracy, formed };
    };
    const before = await measure('before Stage I');
    const progress = new Progress(trainer.totalSteps);
    while (!trainer.done) {
      const r = await trainer.train();
      const line = progress.line(r); // every step: the line's rates and ETA count them all
      if (r.step % 10 === 0 || trainer.done) console.log(line);
    }
    const after = await measure('after Stage I');
    console.log(
      `\nStage I: eval loss ${before.loss.toFixed(3)} → ${after.loss.toFixed(3)}, well-formed answers ${(100 * before.formed).toFixed(0)}% → ${(100 * after.formed).toFixed(0)}%, answer accuracy ${(100 * before.accuracy).toFixed(1)}% → ${(100 * after.accuracy).toFixed(1)}%` +
        ` (${trainer.totalSteps} steps, ${progress.tokensPerSecond.toFixed(0)} tok/s, ${fmtDuration((performance.now() - t0) / 1000)} in all)`,
    );
    if (!(after.loss < before.loss)) throw new Error('demo: the eval loss did not decrease — something is wrong with this backend');
    trainer.optimizer.dispose();
    model.release();
    rt.backend.destroy();
  },
};
