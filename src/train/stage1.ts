// The pieces of a Stage-I run that `mede2 sft` and the web page's training worker share, so
// both read data, load and save models, and log metrics the same way: a dataset file through the
// tokenizer (and image processor), the model for a fresh or resumed run, a checkpoint's weights,
// and a step's metrics record. Platform-free: files go through the platform (Node's disk, or the
// worker's in-memory file system).
import type { FileSet } from '../io/fileset.js';
import { dirFileSet } from '../io/fileset.js';
import { loadPeftAdapter, savePeftAdapter } from '../models/qwen2vl/adapter.js';
import { loadQwenVL } from '../models/qwen2vl/load.js';
import type { QwenVL } from '../models/qwen2vl/model.js';
import { saveQwenVL } from '../models/qwen2vl/save.js';
import { platform } from '../platform/platform.js';
import type { Runtime } from '../tensor/runtime.js';
import type { Tokenizer } from '../text/index.js';
import { decode } from '../vision/decode.js';
import { Qwen2VLImageProcessor } from '../vision/qwen2vl.js';
import { imageGridLookup, readSftJsonl, tokenizeSft, type DataIssue, type SftExample, type SftSample } from './data/index.js';
import type { MetricRecord } from './metrics.js';
import type { SftOptions } from './options.js';
import type { PixelSource, StepReport } from './sft.js';

/** The model folder's image processor (its preprocessor_config.json, else Qwen2-VL's defaults). */
export async function imageProcessorFor(files: FileSet): Promise<Qwen2VLImageProcessor> {
  if (!(await files.has('preprocessor_config.json'))) return new Qwen2VLImageProcessor();
  return Qwen2VLImageProcessor.fromConfig(JSON.parse(new TextDecoder().decode(await files.read('preprocessor_config.json'))));
}

export interface SftDataset {
  examples: SftExample[];
  samples: SftSample[];
  /** Lines skipped while reading or tokenizing, in file order. */
  issues: DataIssue[];
  truncated: number;
  dropped: number;
}

/** A JSONL file read and tokenized with the run's options (image grids from the processor when cases have images). */
export async function readSftDataset(
  path: string,
  opts: Pick<SftOptions, 'strict' | 'template' | 'maxLen' | 'truncation'>,
  tokenizer: Tokenizer,
  processor: Qwen2VLImageProcessor,
): Promise<SftDataset> {
  const data = await readSftJsonl(path, { strict: opts.strict, responseTemplate: opts.template });
  const withImages = data.examples.some((e) => e.images.length);
  const t = tokenizeSft(data.examples, tokenizer, {
    maxLen: opts.maxLen,
    truncation: opts.truncation,
    strict: opts.strict,
    imageGrid: withImages ? await imageGridLookup(data.examples, processor) : undefined,
  });
  return { examples: data.examples, samples: t.samples, issues: [...data.issues, ...t.issues], truncated: t.truncated, dropped: t.dropped };
}

/** Pixels of image files through the model's image processor (cached: a row may repeat an image). */
export function pixelSource(processor: Qwen2VLImageProcessor): PixelSource {
  const cache = new Map<string, Promise<{ pixels: Float32Array; grid: [number, number, number] }>>();
  return (path) => {
    let p = cache.get(path);
    if (!p) {
      p = (async () => {
        const batch = await processor.preprocess(await decode(await platform().readFile!(path)));
        return { pixels: batch.pixelValues, grid: batch.imageGridThw[0] };
      })();
      cache.set(path, p);
    }
    return p;
  };
}

/**
 * The model to train: the base folder (with fresh LoRA adapters when asked), or, resuming, the
 * checkpoint's full weights or the base plus the checkpoint's adapter.
 */
export async function loadSftModel(rt: Runtime, opts: Pick<SftOptions, 'freezeVision' | 'lora' | 'seed'>, base: FileSet, resumeDir?: string): Promise<QwenVL> {
  const freeze = { vision: opts.freezeVision };
  if (resumeDir && !opts.lora) return loadQwenVL(rt, dirFileSet(resumeDir), { freeze });
  const model = await loadQwenVL(rt, base, { freeze, lora: resumeDir ? undefined : opts.lora, seed: opts.seed });
  if (resumeDir) await loadPeftAdapter(model, dirFileSet(resumeDir));
  return model;
}

/** A checkpoint's weights: the PEFT adapter, or the full model in f32 (so a resumed run continues from exactly these values). */
export async function saveSftWeights(model: QwenVL, dir: string, base: FileSet): Promise<void> {
  if (model.lora) await savePeftAdapter(model, dir, { baseModel: base.label });
  else await saveQwenVL(model, dir, { configFrom: base, dtype: 'f32' });
}

/** metrics.jsonl's record of one optimizer step (Hugging Face names). */
export function stepMetrics(r: StepReport): MetricRecord {
  return { step: r.step, loss: r.loss, learning_rate: r.lr, epoch: r.epoch, tokens_per_second: r.tokens / r.seconds, peak_bytes: r.peakBytes };
}
