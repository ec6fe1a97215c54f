// Messages between the page (web/main.ts) and the training worker (web/worker.ts). The page
// never trains: it sends files and options and draws what the worker reports, so it stays
// responsive however long a step takes.
import type { BackendInfo, DeviceChoice } from '../src/index.js';
import type { Footprint } from '../src/train/footprint.js';
import type { StepReport } from '../src/train/sft.js';

/** A picked or dropped file with its path inside the chosen folder ('' prefix for single files). */
export interface PickedFile {
  path: string;
  file: File;
}

/** Options as the form gives them: keys of `mede2 sft` (kebab-case), string values. */
export type FormOptions = Record<string, string | boolean>;

export interface StartRequest {
  type: 'start';
  model: PickedFile[];
  /** The dataset: the training JSONL, an optional eval JSONL, and the images they name. */
  data: PickedFile[];
  /** Path (within data) of the training JSONL. */
  trainFile: string;
  /** Path (within data) of the held-out JSONL: evaluation loss and sample generations. */
  evalFile?: string;
  options: FormOptions;
  /** A checkpoint folder (as downloaded: checkpoint-N/…) to continue from. */
  resume?: PickedFile[];
}

export type ToWorker =
  | { type: 'probe'; device: DeviceChoice }
  | StartRequest
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'download'; what: 'checkpoint' | 'adapter' };

export interface BackendReport {
  kind: BackendInfo['kind'];
  description: string;
  software: boolean;
  /** Why this backend was chosen. */
  reason: string;
  maxBufferBytes: number;
  maxBindingBytes: number;
}

export interface StepUpdate {
  report: StepReport;
  totalSteps: number;
  tokensPerSecond: number;
  etaSeconds: number;
  liveBytes: number;
}

export type FromWorker =
  | { type: 'backend'; backend: BackendReport }
  /** WebGPU is missing (or gave no adapter): the wasm backend is offered instead. */
  | { type: 'no-webgpu'; message: string }
  | { type: 'status'; text: string }
  | { type: 'plan'; totalSteps: number; samples: number; skipped: string[]; footprint: Footprint; lora: boolean; resumedAt: number }
  /** The model does not fit this adapter: the estimate and what breaks. */
  | { type: 'no-fit'; problems: string[]; footprint: Footprint; backend: BackendReport }
  | ({ type: 'step' } & StepUpdate)
  | { type: 'eval'; step: number; loss: number }
  /** A held-out case answered by the model: its reply, and the answer in it against the reference. */
  | { type: 'sample'; step: number; id: string; expected: string; got: string | null; correct: boolean; output: string }
  | { type: 'checkpoint'; step: number; path: string }
  | { type: 'paused'; step: number }
  | { type: 'resumed' }
  | { type: 'done'; step: number; stopped: boolean }
  /** A zip of a folder the run wrote (the same files as the CLI's). */
  | { type: 'download'; what: 'checkpoint' | 'adapter'; name: string; zip: Uint8Array }
  /** A request failed (the run, if any, goes on). */
  | { type: 'error'; message: string }
  /** The run stopped with an error. */
  | { type: 'failed'; message: string };
