// Training state for --resume: step, epoch, data position, RNG state, AdamW moments, schedule
// and config, as MessagePack (msgpackr) compressed with DEFLATE (fflate), behind a header
// that makes damage detectable:
//   0  "mede2-ts"      magic, 8 bytes
//   8  u32 LE          format version
//  12  u32 LE          CRC-32 of the compressed payload
//  16  u32 LE × 2      uncompressed length (low, high word)
//  24  payload
// Float32Arrays are stored as their raw bytes (little-endian, bit-exact, NaN payloads kept).
// Checkpoints are folders checkpoint-<step>/ written as checkpoint-<step>.tmp/ and renamed
// once complete; the state file, written last, marks a folder complete.
import { deflateSync, inflateSync } from 'fflate';
import { Packr, Unpackr } from 'msgpackr';
import type { AdamWState } from '../optim/adamw.js';
import { platform, type Platform } from '../platform/platform.js';
import { crc32 } from '../util/crc32.js';
import { joinPath } from '../util/path.js';
import type { PackPosition } from './packing.js';
import type { ScheduleConfig, ScheduleKind } from './schedule.js';

export const STATE_FORMAT_VERSION = 1;
export const STATE_FILE = 'training_state.bin';
const MAGIC = 'mede2-ts';
const HEADER_BYTES = 24;

export interface TrainingState {
  /** Optimizer steps taken. */
  step: number;
  /** Epochs done, fractional (for logs; the data position is what resumes). */
  epoch: number;
  data: PackPosition;
  /** The trainer's RNG state (dropout and the like). */
  rng: number;
  optimizer: AdamWState;
  scheduler: ScheduleConfig;
  /** The run's options, as plain data. */
  config: Record<string, unknown>;
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false });

function f32Bytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export function encodeTrainingState(state: TrainingState): Uint8Array {
  const { optimizer } = state;
  const body = packr.pack({ ...state, optimizer: { step: optimizer.step, m: optimizer.m.map(f32Bytes), v: optimizer.v.map(f32Bytes) } });
  const payload = deflateSync(body, { level: 1 }); // moments are near-random floats: higher levels gain little
  const out = new Uint8Array(HEADER_BYTES + payload.length);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const d = new DataView(out.buffer);
  d.setUint32(8, STATE_FORMAT_VERSION, true);
  d.setUint32(12, crc32(payload), true);
  d.setUint32(16, body.length >>> 0, true);
  d.setUint32(20, Math.floor(body.length / 2 ** 32), true);
  out.set(payload, HEADER_BYTES);
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** Field checks that name what is wrong. */
class Fields {
  constructor(private readonly where: string) {}

  fail(what: string): never {
    throw new CheckpointError(`${this.where}: ${what}`);
  }

  object(v: unknown, name: string): Record<string, unknown> {
    if (!isObject(v)) this.fail(`'${name}' is missing or not a map`);
    return v;
  }

  number(o: Record<string, unknown>, key: string, parent: string, integer: boolean): number {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !(Number.isInteger(v) && v >= 0)))
      this.fail(`'${parent}${key}' must be ${integer ? 'an integer ≥ 0' : 'a finite number'}, got ${JSON.stringify(v) ?? String(v)}`);
    return v;
  }

  floats(v: unknown, name: string): Float32Array {
    if (!(v instanceof Uint8Array) || v.byteLength % 4) this.fail(`'${name}' is not a float32 byte array`);
    return new Float32Array(v.slice().buffer); // copy: aligned, and detached from the file's bytes
  }

  moments(v: unknown, name: string): Float32Array[] {
    if (!Array.isArray(v)) this.fail(`'${name}' is not a list`);
    return v.map((x, i) => this.floats(x, `${name}[${i}]`));
  }
}

/** Decodes and validates a state file's bytes; `where` names it in errors. */
export function decodeTrainingState(bytes: Uint8Array, where: string): TrainingState {
  const f = new Fields(where);
  if (bytes.length < HEADER_BYTES)
    f.fail(`truncated: ${bytes.length} bytes, shorter than the ${HEADER_BYTES}-byte header (the write was interrupted?); resume from an earlier checkpoint`);
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) f.fail(`not a mede2 training-state file (no '${MAGIC}' header)`);
  const d = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = d.getUint32(8, true);
  if (version !== STATE_FORMAT_VERSION)
    f.fail(`format version ${version}, but this mede2 reads version ${STATE_FORMAT_VERSION}; use the mede2 release that wrote it`);
  const payload = bytes.subarray(HEADER_BYTES);
  if (crc32(payload) !== d.getUint32(12, true)) f.fail(`corrupt or truncated (checksum mismatch over ${payload.length} payload bytes); resume from an earlier checkpoint`);
  const length = d.getUint32(16, true) + d.getUint32(20, true) * 2 ** 32;
  let body: Uint8Array;
  let raw: unknown;
  try {
    body = inflateSync(payload);
    if (body.length !== length) f.fail(`payload inflates to ${body.length} bytes, the header says ${length}`);
    raw = unpackr.unpack(body);
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    f.fail(`corrupt payload (${(e as Error).message})`);
  }
  const s = f.object(raw, 'state');
  const data = f.object(s.data, 'data');
  const opt = f.object(s.optimizer, 'optimizer');
  const sched = f.object(s.scheduler, 'scheduler');
  const m = f.moments(opt.m, 'optimizer.m');
  const v = f.moments(opt.v, 'optimizer.v');
  if (m.length !== v.length || m.some((x, i) => x.length !== v[i].length)) f.fail(`optimizer.m and optimizer.v do not match in count or sizes`);
  if (sched.kind !== 'cosine' && sched.kind !== 'constant') f.fail(`'scheduler.kind' must be 'cosine' or 'constant', got ${JSON.stringify(sched.kind)}`);
  if (sched.numCycles !== undefined) f.number(sched, 'numCycles', 'scheduler.', false);
  return {
    step: f.number(s, 'step', '', true),
    epoch: f.number(s, 'epoch', '', false),
    data: { epoch: f.number(data, 'epoch', 'data.', true), index: f.number(data, 'index', 'data.', true), rngState: f.number(data, 'rngState', 'data.', true) },
    rng: f.number(s, 'rng', '', true),
    optimizer: { step: f.number(opt, 'step', 'optimizer.', true), m, v },
    scheduler: {
      kind: sched.kind as ScheduleKind,
      baseLr: f.number(sched, 'baseLr', 'scheduler.', false),
      warmupSteps: f.number(sched, 'warmupSteps', 'scheduler.', true),
      totalSteps: f.number(sched, 'totalSteps', 'scheduler.', true),
      ...(sched.numCycles === undefined ? {} : { numCycles: sched.numCycles as number }),
    },
    config: f.object(s.config, 'config'),
  };
}

type FileOps = Required<Pick<Platform, 'readFile' | 'isFile' | 'writeFileAtomic' | 'mkdirp' | 'listDir' | 'rename' | 'remove'>>;

function files(who: string): FileOps {
  const p = platform();
  const need = ['readFile', 'isFile', 'writeFileAtomic', 'mkdirp', 'listDir', 'rename', 'remove'] as const;
  const missing = need.filter((k) => !p[k]);
  if (missing.length) throw new Error(`${who}: the ${p.name} platform has no file system (${missing.join(', ')}); use encodeTrainingState/decodeTrainingState on bytes`);
  return p as unknown as FileOps;
}

export async function writeTrainingState(path: string, state: TrainingState): Promise<void> {
  await files('writeTrainingState').writeFileAtomic(path, encodeTrainingState(state));
}

export async function readTrainingState(path: string): Promise<TrainingState> {
  let bytes: Uint8Array;
  try {
    bytes = await files('readTrainingState').readFile(path);
  } catch (e) {
    throw new CheckpointError(`cannot read the training state ${path}: ${(e as Error).message}`);
  }
  return decodeTrainingState(bytes, path);
}

export interface CheckpointInfo {
  step: number;
  path: string;
}

const CHECKPOINT_NAME = /^checkpoint-(\d+)$/;

export function checkpointName(step: number): string {
  return `checkpoint-${step}`;
}

/**
 * Writes checkpoint-<step>/ under outDir: `writeFiles` fills a temporary folder (weights,
 * adapter, config), then the state file is written and the folder renamed into place. An
 * existing checkpoint of the same step is replaced.
 */
export async function saveCheckpoint(outDir: string, state: TrainingState, writeFiles?: (dir: string) => Promise<void>): Promise<string> {
  const fs = files('saveCheckpoint');
  const final = joinPath(outDir, checkpointName(state.step));
  const temp = `${final}.tmp`;
  await fs.remove(temp); // left by an interrupted save
  await fs.mkdirp(temp);
  if (writeFiles) await writeFiles(temp);
  await fs.writeFileAtomic(joinPath(temp, STATE_FILE), encodeTrainingState(state));
  const old = `${final}.old`;
  await fs.remove(old);
  const replacing = (await fs.listDir(outDir)).some((e) => e.name === checkpointName(state.step));
  if (replacing) await fs.rename(final, old);
  await fs.rename(temp, final);
  if (replacing) await fs.remove(old);
  return final;
}

/** Complete checkpoints under outDir (checkpoint-<step>/ holding a state file), oldest first. */
export async function listCheckpoints(outDir: string): Promise<CheckpointInfo[]> {
  const fs = files('listCheckpoints');
  let entries;
  try {
    entries = await fs.listDir(outDir);
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return [];
    throw e;
  }
  const found: CheckpointInfo[] = [];
  for (const e of entries) {
    const m = e.kind === 'dir' ? CHECKPOINT_NAME.exec(e.name) : null;
    if (!m) continue;
    const path = joinPath(outDir, e.name);
    if (await fs.isFile(joinPath(path, STATE_FILE))) found.push({ step: Number(m[1]), path });
  }
  return found.sort((a, b) => a.step - b.step);
}

export async function latestCheckpoint(outDir: string): Promise<CheckpointInfo | undefined> {
  return (await listCheckpoints(outDir)).at(-1);
}

/**
 * Deletes all but the newest `keepLast` complete checkpoints. Incomplete folders (no state
 * file) and temporary ones are left alone: they may be a save in progress. Returns the paths deleted.
 */
export async function rotateCheckpoints(outDir: string, keepLast: number): Promise<string[]> {
  if (!(Number.isInteger(keepLast) && keepLast >= 1)) throw new Error(`rotateCheckpoints: keepLast must be an integer ≥ 1, got ${keepLast}`);
  const fs = files('rotateCheckpoints');
  const doomed = (await listCheckpoints(outDir)).slice(0, -keepLast).map((c) => c.path);
  for (const path of doomed) await fs.remove(path);
  return doomed;
}

export async function readCheckpoint(dir: string): Promise<TrainingState> {
  return readTrainingState(joinPath(dir, STATE_FILE));
}
