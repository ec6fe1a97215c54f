// One Stage-I run inside the training worker: the picked files are mounted in an in-memory file
// system, so the same library code as `mede2 sft` reads the model and data and writes
// checkpoints, adapters and metrics; the page gets progress messages and zips of those folders.
// Work the page asks for mid-run (pause, downloads) happens between optimizer steps.
import { zipSync } from 'fflate';
import type { Backend } from '../src/backend/backend.js';
import { createBackend } from '../src/backend/select.js';
import { answerAccuracy, answerCases, type AnswerCase } from '../src/eval/answers.js';
import { dirFileSet } from '../src/io/fileset.js';
import { peftAdapterFiles } from '../src/models/qwen2vl/adapter.js';
import { parseQwenVLConfig } from '../src/models/qwen2vl/config.js';
import type { QwenVL } from '../src/models/qwen2vl/model.js';
import type { MemoryFiles } from '../src/platform/memory.js';
import { platform } from '../src/platform/platform.js';
import { Runtime } from '../src/tensor/runtime.js';
import { Tokenizer } from '../src/text/tokenizer.js';
import { checkpointName, latestCheckpoint, readCheckpoint, rotateCheckpoints, saveCheckpoint, STATE_FILE } from '../src/train/checkpoint.js';
import { formatIssue, type SftSample } from '../src/train/data/index.js';
import { estimateSftFootprint, fitProblems } from '../src/train/footprint.js';
import { MetricsLog, writeLossCurve } from '../src/train/metrics.js';
import { sftOptionsFrom, type SftOptions } from '../src/train/options.js';
import { Progress } from '../src/train/progress.js';
import { SftTrainer } from '../src/train/sft.js';
import { imageProcessorFor, loadSftModel, pixelSource, readSftDataset, saveSftWeights, stepMetrics } from '../src/train/stage1.js';
import type { BackendReport, FromWorker, StartRequest } from './protocol.js';

export type Post = (msg: FromWorker, transfer?: Transferable[]) => void;

/** Where the run's folders live in the in-memory file system. */
const MODEL = 'model';
const DATA = 'data';
const RESUME = 'resume';
const OUT = 'out';
/** Held-out cases answered after each evaluation, and how long their answers may get. */
const SAMPLE_CASES = 2;
const SAMPLE_TOKENS = 64;

/** Why this browser cannot run WebGPU, or undefined when it can. */
async function webGpuMissing(): Promise<string | undefined> {
  const gpu = await platform().gpu();
  if (!gpu) return 'navigator.gpu is missing (WebGPU needs a recent Chrome or Edge, or Firefox/Safari with it enabled, on an https or localhost page)';
  if (!(await gpu.requestAdapter())) return 'the browser offers WebGPU but found no adapter (is hardware acceleration off, or the GPU blocklisted?)';
  return undefined;
}

function backendReport(b: Backend, reason: string): BackendReport {
  const { kind, description, software, limits } = b.info;
  return { kind, description, software, reason, maxBufferBytes: limits.maxBufferBytes, maxBindingBytes: limits.maxBindingBytes };
}

/** A folder of the in-memory file system as a zip whose entries sit under `top`/. */
function zipFolder(files: MemoryFiles, dir: string, top: string): Uint8Array {
  const entries: Record<string, Uint8Array> = {};
  for (const [path, data] of files.list(dir)) {
    if (!(data instanceof Uint8Array)) throw new Error(`${dir}/${path}: not written by this run`);
    entries[`${top}/${path}`] = data;
  }
  return zipSync(entries, { level: 0 }); // weights do not compress
}

export class TrainingSession {
  private phase: 'idle' | 'running' | 'paused' | 'finished' = 'idle';
  private stopRequested = false;
  private wake: (() => void) | null = null;
  /** Page requests waiting for a step boundary. */
  private queue: (() => Promise<void>)[] = [];
  private model?: QwenVL;
  private trainer?: SftTrainer;
  private options?: SftOptions;

  constructor(
    private readonly files: MemoryFiles,
    private readonly post: Post,
  ) {}

  /** Reports the backend `device` gives and, unless wasm was asked for, why WebGPU is missing if it is (the page then offers wasm). */
  async probe(device: SftOptions['device']): Promise<void> {
    const missing = device === 'wasm' ? undefined : await webGpuMissing();
    if (missing) this.post({ type: 'no-webgpu', message: missing });
    try {
      const { backend, reason } = await createBackend(device);
      this.post({ type: 'backend', backend: backendReport(backend, reason) });
      backend.destroy();
    } catch (e) {
      if (!missing) this.post({ type: 'no-webgpu', message: (e as Error).message });
    }
  }

  async start(req: StartRequest): Promise<void> {
    if (this.phase !== 'idle') throw new Error('a run has already started in this page; reload it to start another');
    this.phase = 'running';
    try {
      await this.run(req);
    } finally {
      this.phase = 'finished';
      await this.drain(); // requests that came in during the last step
    }
  }

  pause(): void {
    if (this.phase === 'running') this.phase = 'paused';
  }

  resume(): void {
    if (this.phase !== 'paused') return;
    this.phase = 'running';
    this.post({ type: 'resumed' });
    this.wake?.();
  }

  stop(): void {
    this.stopRequested = true;
    this.resume();
  }

  /** Zips the latest checkpoint (saving one at the current step first) or the LoRA adapter. */
  download(what: 'checkpoint' | 'adapter'): void {
    const job = async () => {
      if (!this.model || !this.trainer) throw new Error('nothing to download yet: start training first');
      if (what === 'adapter') {
        if (!this.model.lora) throw new Error('this run fine-tunes the full model, so there is no LoRA adapter; download the checkpoint');
        const top = `adapter-${this.trainer.step}`;
        const entries: Record<string, Uint8Array> = {};
        for (const [name, bytes] of await peftAdapterFiles(this.model, { baseModel: MODEL })) entries[`${top}/${name}`] = bytes;
        const zip = zipSync(entries, { level: 0 });
        return this.post({ type: 'download', what, name: `${top}.zip`, zip }, [zip.buffer]);
      }
      const latest = await latestCheckpoint(OUT);
      const path = latest?.step === this.trainer.step ? latest.path : await this.checkpoint();
      const name = checkpointName(this.trainer.step);
      const zip = zipFolder(this.files, path, name);
      this.post({ type: 'download', what, name: `${name}.zip`, zip }, [zip.buffer]);
    };
    if (this.phase === 'running') this.queue.push(job);
    else this.report(job());
  }

  private report(p: Promise<void>): void {
    p.catch((e: Error) => this.post({ type: 'error', message: e.message }));
  }

  private async drain(): Promise<void> {
    while (this.queue.length) await this.queue.shift()!().catch((e: Error) => this.post({ type: 'error', message: e.message }));
  }

  /** Between steps: serves queued requests and waits while paused. */
  private async stepBoundary(): Promise<void> {
    // A step is one long chain of promise continuations, which never lets the worker's message
    // queue run; a macrotask here does, so a pause, stop or download sent during the step lands now.
    await new Promise<void>((r) => setTimeout(r, 0));
    await this.drain();
    if (this.phase !== 'paused') return;
    this.post({ type: 'paused', step: this.trainer!.step });
    while (this.phase === 'paused') await new Promise<void>((r) => (this.wake = r));
    this.wake = null;
  }

  private mount(req: StartRequest): void {
    for (const f of req.model) this.files.put(`${MODEL}/${f.path}`, f.file);
    for (const f of req.data) this.files.put(`${DATA}/${f.path}`, f.file);
    for (const f of req.resume ?? []) this.files.put(`${RESUME}/${f.path}`, f.file);
  }

  private async run(req: StartRequest): Promise<void> {
    const post = this.post;
    this.mount(req);
    const options = sftOptionsFrom(
      { ...req.options, model: MODEL, data: `${DATA}/${req.trainFile}`, ...(req.evalFile ? { eval: `${DATA}/${req.evalFile}` } : {}), out: OUT },
      'the form',
    );
    this.options = options;

    post({ type: 'status', text: 'starting the backend' });
    const { backend, reason } = await createBackend(options.device);
    const report = backendReport(backend, reason);
    post({ type: 'backend', backend: report });

    const base = dirFileSet(MODEL);
    if (!(await base.has('config.json'))) throw new Error('the model folder has no config.json (pick a Hugging Face Qwen2-VL / Qwen2.5-VL folder)');
    const configJson = JSON.parse(new TextDecoder().decode(await base.read('config.json'))) as Record<string, unknown>;
    const config = parseQwenVLConfig(configJson, `${MODEL}/config.json`);
    const footprint = estimateSftFootprint(config, {
      lora: options.lora,
      batchTokens: options.batchTokens,
      freezeVision: options.freezeVision,
      weightElementBytes: String(configJson.dtype ?? configJson.torch_dtype) === 'float32' ? 4 : 2,
    });
    const problems = fitProblems(footprint, backend.info.limits, options.batchTokens);
    if (problems.length) return post({ type: 'no-fit', problems, footprint, backend: report });

    post({ type: 'status', text: 'reading the tokenizer and the data' });
    const tokenizer = await Tokenizer.fromFile(MODEL);
    const processor = await imageProcessorFor(base);
    const train = await readSftDataset(options.data, options, tokenizer, processor);
    const held = options.eval ? await readSftDataset(options.eval, options, tokenizer, processor) : undefined;

    post({ type: 'status', text: 'loading the model' });
    let resumeDir: string | undefined;
    if (req.resume?.length) {
      if (!(await dirFileSet(RESUME).has(STATE_FILE))) throw new Error(`the checkpoint has no ${STATE_FILE}: pick a checkpoint-N folder or zip that this page or mede2 sft wrote`);
      resumeDir = RESUME;
    }
    const state = resumeDir ? await readCheckpoint(resumeDir) : undefined;
    const rt = new Runtime(backend);
    const model = await loadSftModel(rt, options, base, resumeDir);
    this.model = model;
    const trainer = new SftTrainer(model, train.samples, options, pixelSource(processor));
    if (state) trainer.restore(state);
    this.trainer = trainer;
    const metrics = await MetricsLog.open(`${OUT}/metrics.jsonl`, { resumeStep: state?.step });
    post({ type: 'plan', totalSteps: trainer.totalSteps, samples: train.samples.length, skipped: train.issues.map(formatIssue), footprint, lora: !!model.lora, resumedAt: state?.step ?? 0 });

    // The CLI's loop: evaluation every evalEvery steps (else at each epoch's end), checkpoints every saveEvery, and both at the end.
    const progress = new Progress(trainer.totalSteps);
    const cases = held ? answerCases(held.examples).slice(0, SAMPLE_CASES) : [];
    let seconds = 0;
    let lastSaved = state?.step ?? -1;
    let lastEval = -1;
    let epoch = Math.floor(trainer.position.epoch);
    const evaluate = async () => {
      lastEval = trainer.step;
      if (held) await this.evaluate(held.samples, cases, tokenizer, metrics);
    };
    while (!trainer.done && !this.stopRequested) {
      await this.stepBoundary();
      if (this.stopRequested) break;
      const r = await trainer.train();
      progress.line(r);
      seconds += r.seconds;
      await metrics.append(stepMetrics(r));
      post({
        type: 'step',
        report: r,
        totalSteps: trainer.totalSteps,
        tokensPerSecond: progress.tokensPerSecond,
        etaSeconds: (seconds / (r.step - (state?.step ?? 0))) * (trainer.totalSteps - r.step),
        liveBytes: rt.memory().liveBytes,
      });
      const crossed = Math.floor(trainer.position.epoch) > epoch;
      epoch = Math.floor(trainer.position.epoch);
      if (options.evalEvery ? r.step % options.evalEvery === 0 : crossed) await evaluate();
      if (options.saveEvery && r.step % options.saveEvery === 0) {
        await this.checkpoint();
        lastSaved = r.step;
      }
    }
    if (lastSaved !== trainer.step) await this.checkpoint();
    if (lastEval !== trainer.step) await evaluate();
    await writeLossCurve(`${OUT}/loss.svg`, metrics.records, 'Stage I (SFT)');
    post({ type: 'done', step: trainer.step, stopped: !trainer.done });
  }

  /** Saves checkpoint-<step>/ (adapter or full weights, plus the training state) as mede2 sft does. */
  private async checkpoint(): Promise<string> {
    const options = this.options!;
    const state = await this.trainer!.state({ ...options } as unknown as Record<string, unknown>);
    const path = await saveCheckpoint(OUT, state, (dir) => saveSftWeights(this.model!, dir, dirFileSet(MODEL)));
    await rotateCheckpoints(OUT, options.keepLast);
    this.post({ type: 'checkpoint', step: state.step, path });
    return path;
  }

  /** Held-out loss, and greedy answers to the first held-out cases. */
  private async evaluate(samples: SftSample[], cases: AnswerCase[], tokenizer: Tokenizer, metrics: MetricsLog): Promise<void> {
    const trainer = this.trainer!;
    if (!samples.length) return;
    const { loss } = await trainer.evaluate(samples);
    await metrics.append({ step: trainer.step, eval_loss: loss });
    this.post({ type: 'eval', step: trainer.step, loss });
    await answerAccuracy(this.model!, tokenizer, cases, {
      maxNewTokens: SAMPLE_TOKENS,
      onCase: (r) => this.post({ type: 'sample', step: trainer.step, id: r.id, expected: r.expected, got: r.got, correct: r.correct, output: r.text }),
    });
  }
}
