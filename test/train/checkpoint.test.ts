import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import {
  CheckpointError,
  STATE_FILE,
  decodeTrainingState,
  encodeTrainingState,
  latestCheckpoint,
  listCheckpoints,
  readCheckpoint,
  readTrainingState,
  rotateCheckpoints,
  saveCheckpoint,
  writeTrainingState,
  type TrainingState,
} from '../../src/train/checkpoint.js';
import { randomF32 } from '../helpers/backends.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'mede2-ckpt-'));
}

/** Floats whose bits a lossy path would change: NaN payloads, −0, subnormals, ±Infinity. */
function awkward(): Float32Array {
  const a = randomF32(37, 3, -1e3, 1e3);
  const bits = new Uint32Array(a.buffer);
  bits[0] = 0x7fc00001; // NaN with a payload
  bits[1] = 0xffa00000; // signalling-pattern negative NaN
  bits[2] = 0x80000000; // −0
  bits[3] = 0x00000001; // smallest subnormal
  a[4] = Infinity;
  a[5] = -Infinity;
  return a;
}

function state(step = 12): TrainingState {
  return {
    step,
    epoch: 1.25,
    data: { epoch: 1, index: 17, rngState: 0xdeadbeef },
    rng: 4294967295,
    optimizer: { step, m: [awkward(), randomF32(5, 4)], v: [randomF32(37, 5, 0, 1), new Float32Array(5)] },
    scheduler: { kind: 'cosine', baseLr: 1e-5, warmupSteps: 3, totalSteps: 90, numCycles: 0.5 },
    config: { model: 'models/tiny', lr: 1e-5, lora: { r: 16, alpha: 32, targetModules: ['q_proj', 'v_proj'] }, eval: undefined, strict: false },
  };
}

function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

describe('training-state file', () => {
  it('round-trips every field, the moments bit-exactly', async () => {
    const s = state();
    const back = decodeTrainingState(encodeTrainingState(s), 'mem');
    expect(back.optimizer.m.map(bits)).toEqual(s.optimizer.m.map(bits));
    expect(back.optimizer.v.map(bits)).toEqual(s.optimizer.v.map(bits));
    expect(back.optimizer.m.every((a) => a instanceof Float32Array)).toBe(true);
    const strip = (x: TrainingState) => ({ ...x, optimizer: { step: x.optimizer.step } });
    expect(strip(back)).toEqual(strip(s));
    // through the file system, atomically (no temp file left behind)
    const dir = tempDir();
    await writeTrainingState(join(dir, 'state.bin'), s);
    expect(readdirSync(dir)).toEqual(['state.bin']);
    const fromFile = await readTrainingState(join(dir, 'state.bin'));
    expect(fromFile.optimizer.m.map(bits)).toEqual(s.optimizer.m.map(bits));
  });

  it('explains truncated, corrupt, foreign and future files', () => {
    const bytes = encodeTrainingState(state());
    const err = (b: Uint8Array) => {
      try {
        decodeTrainingState(b, 'ck/training_state.bin');
      } catch (e) {
        expect(e).toBeInstanceOf(CheckpointError);
        return (e as Error).message;
      }
      throw new Error('decoded a damaged file');
    };
    expect(err(bytes.subarray(0, 10))).toMatch(/^ck\/training_state\.bin: truncated: 10 bytes, shorter than the 24-byte header/);
    expect(err(bytes.subarray(0, bytes.length - 100))).toMatch(/corrupt or truncated \(checksum mismatch/);
    const flipped = bytes.slice();
    flipped[flipped.length >> 1] ^= 0x10;
    expect(err(flipped)).toMatch(/checksum mismatch/);
    const foreign = bytes.slice();
    foreign.set(new TextEncoder().encode('PK\x03\x04'), 0);
    expect(err(foreign)).toMatch(/not a mede2 training-state file/);
    const future = bytes.slice();
    new DataView(future.buffer).setUint32(8, 2, true);
    expect(err(future)).toMatch(/format version 2, but this mede2 reads version 1/);
    // a header whose checksum is right over a payload that is not DEFLATE
    const junk = bytes.slice(0, 24 + 16);
    junk.fill(0xff, 24);
    const crc = zlibCrc32(junk.subarray(24));
    new DataView(junk.buffer).setUint32(12, crc, true);
    expect(err(junk)).toMatch(/corrupt payload/);
    // well-formed but wrong fields
    expect(err(encodeTrainingState({ ...state(), step: -1 }))).toMatch(/'step' must be an integer ≥ 0, got -1/);
    expect(err(encodeTrainingState({ ...state(), data: { epoch: 0, index: 0 } as never }))).toMatch(/'data\.rngState' must be an integer/);
    const mismatched = state();
    mismatched.optimizer.v.pop();
    expect(err(encodeTrainingState(mismatched))).toMatch(/optimizer\.m and optimizer\.v do not match/);
  });

  it('says which file it cannot read', async () => {
    await expect(readTrainingState(join(tempDir(), 'none.bin'))).rejects.toThrow(/cannot read the training state .*none\.bin/);
  });
});

/** CRC-32 as zlib computes it, written out here independently of src/util/crc32.ts. */
function zlibCrc32(b: Uint8Array): number {
  let c = ~0;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

describe('checkpoint folders', () => {
  it('saves complete folders, replaces a step, and lists them in step order', async () => {
    const out = tempDir();
    for (const step of [2, 10, 9, 1]) await saveCheckpoint(out, state(step), async (dir) => writeFileSync(join(dir, 'adapter_model.safetensors'), `w${step}`));
    expect((await listCheckpoints(out)).map((c) => c.step)).toEqual([1, 2, 9, 10]);
    expect(readFileSync(join(out, 'checkpoint-9', 'adapter_model.safetensors'), 'utf8')).toBe('w9');
    await saveCheckpoint(out, { ...state(9), epoch: 2 }, async (dir) => writeFileSync(join(dir, 'adapter_model.safetensors'), 'again'));
    expect(readFileSync(join(out, 'checkpoint-9', 'adapter_model.safetensors'), 'utf8')).toBe('again');
    expect((await readCheckpoint(join(out, 'checkpoint-9'))).epoch).toBe(2);
    expect(readdirSync(out).sort()).toEqual(['checkpoint-1', 'checkpoint-10', 'checkpoint-2', 'checkpoint-9']);
    expect(await listCheckpoints(join(out, 'nothing-here'))).toEqual([]);
  });

  it('rotates to the newest N complete checkpoints, leaving half-written folders alone', async () => {
    const out = tempDir();
    for (const step of [5, 10, 15, 20]) await saveCheckpoint(out, state(step));
    mkdirSync(join(out, 'checkpoint-25.tmp')); // a save in progress
    writeFileSync(join(out, 'checkpoint-25.tmp', STATE_FILE), 'partial');
    mkdirSync(join(out, 'checkpoint-30')); // no state file: incomplete
    writeFileSync(join(out, 'metrics.jsonl'), '');
    expect((await latestCheckpoint(out))?.step).toBe(20);
    const deleted = await rotateCheckpoints(out, 2);
    expect(deleted).toEqual([join(out, 'checkpoint-5'), join(out, 'checkpoint-10')]);
    expect(readdirSync(out).sort()).toEqual(['checkpoint-15', 'checkpoint-20', 'checkpoint-25.tmp', 'checkpoint-30', 'metrics.jsonl']);
    await rotateCheckpoints(out, 1);
    expect(existsSync(join(out, 'checkpoint-20', STATE_FILE))).toBe(true); // the newest complete one survives
    expect((await listCheckpoints(out)).map((c) => c.step)).toEqual([20]);
    await expect(rotateCheckpoints(out, 0)).rejects.toThrow(/keepLast must be an integer ≥ 1/);
  });

  it('cleans up the temp folder an interrupted save left', async () => {
    const out = tempDir();
    mkdirSync(join(out, 'checkpoint-3.tmp'));
    writeFileSync(join(out, 'checkpoint-3.tmp', 'stale.bin'), 'x');
    await saveCheckpoint(out, state(3));
    expect(readdirSync(join(out, 'checkpoint-3'))).toEqual([STATE_FILE]);
    expect(existsSync(join(out, 'checkpoint-3.tmp'))).toBe(false);
  });
});
