// The wasm side of the tokenizer (assembly/tokenizer/): one instance per Tokenizer, holding
// its merges, byte table and word cache. Text goes in as UTF-8 in the module's input buffer;
// ids and byte ranges come back from its output arrays.
import { instantiateEmbedded } from '../util/wasm.js';
import { wasmBase64 } from '../generated/wasm/tokenizer.js';
import { vocabBytes, type TokenizerSpec } from './config.js';

interface Exports {
  alloc(bytes: number): number;
  free(ptr: number): void;
  setSteps(ptr: number, count: number): void;
  setByteTable(ptr: number, fuse: number): void;
  setMerges(ptr: number, count: number): void;
  setVocab(bytes: number, offsets: number, ids: number, count: number): void;
  inputBuffer(bytes: number): number;
  encode(bytes: number): number;
  resultIds(): number;
  resultStarts(): number;
  resultEnds(): number;
}

/** Tokens of one piece: ids and UTF-8 byte ranges [start, end) within that piece of `bytes` bytes. */
export interface PieceTokens {
  bytes: number;
  ids: Uint32Array;
  starts: Uint32Array;
  ends: Uint32Array;
}

const utf8 = new TextEncoder();

export class BpeEngine {
  private constructor(
    private readonly x: Exports,
    private readonly memory: WebAssembly.Memory,
  ) {}

  /** A fresh instance (its own memory and cache) loaded with the spec's tables. */
  static async create(spec: TokenizerSpec): Promise<BpeEngine> {
    const { exports, memory } = await instantiateEmbedded<Exports>('tokenizer', wasmBase64);
    const e = new BpeEngine(exports, memory);
    e.withCopy(Uint32Array.from(spec.steps), (p) => exports.setSteps(p, spec.steps.length));
    e.withCopy(spec.byteTable, (p) => exports.setByteTable(p, spec.fuseUnk ? 1 : 0));
    e.withCopy(spec.merges, (p) => exports.setMerges(p, spec.merges.length / 3));
    if (spec.ignoreMerges) {
      const v = vocabBytes(spec.vocab);
      e.withCopy(v.bytes, (b) => e.withCopy(v.offsets, (o) => e.withCopy(v.ids, (i) => exports.setVocab(b, o, i, v.ids.length))));
    }
    return e;
  }

  private withCopy(data: Uint8Array | Uint32Array, use: (ptr: number) => void): void {
    const ptr = this.x.alloc(data.byteLength) >>> 0;
    new Uint8Array(this.memory.buffer, ptr, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    try {
      use(ptr);
    } finally {
      this.x.free(ptr);
    }
  }

  /** Pre-tokenizes and BPE-encodes one piece of text (already split from added tokens and normalized). */
  encode(text: string): PieceTokens {
    const cap = text.length * 3;
    const input = this.x.inputBuffer(cap) >>> 0;
    const { written } = utf8.encodeInto(text, new Uint8Array(this.memory.buffer, input, cap));
    const n = this.x.encode(written!) >>> 0;
    const buf = this.memory.buffer;
    const starts = new Uint32Array(buf, this.x.resultStarts() >>> 0, n).slice();
    const ends = new Uint32Array(buf, this.x.resultEnds() >>> 0, n).slice();
    for (let i = 0; i < n; i++) {
      starts[i] -= input;
      ends[i] -= input;
    }
    return { bytes: written!, ids: new Uint32Array(buf, this.x.resultIds() >>> 0, n).slice(), starts, ends };
  }
}
