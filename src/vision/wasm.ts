// The image wasm module (assembly/image/): one shared instance, its typed exports, and a scratch
// arena that frees every allocation of an operation at once. Memory may grow on any alloc, so
// views are made fresh from `memory.buffer` after allocating.
import { instantiateEmbedded } from '../util/wasm.js';
import { wasmBase64 } from '../generated/wasm/image.js';

export interface ImageExports {
  alloc(bytes: number): number;
  free(ptr: number): void;
  png_decode(data: number, len: number, width: number, height: number, depth: number, ctype: number, interlace: number,
    palette: number, keyR: number, keyG: number, keyB: number, out: number, outChannels: number): number;
  jpeg_build_huffman(table: number, counts: number, symbols: number): number;
  jpeg_decode_scan(data: number, len: number, start: number, scan: number): number;
  jpeg_output(frame: number, out: number): void;
  resize_bicubic(src: number, srcW: number, srcH: number, dst: number, dstW: number, dstH: number): void;
  to_rgbx(src: number, n: number, channels: number, dst: number): void;
  from_rgbx(src: number, n: number, channels: number, dst: number): void;
  patchify(src: number, width: number, height: number, patch: number, merge: number, temporal: number, lut: number, out: number): void;
  rle_decode(src: number, len: number, dst: number, pixels: number, bytesPerSample: number, samples: number): number;
  grey_to_u8(src: number, n: number, bytes: number, bitsStored: number, highBit: number, signed: number, slope: number,
    intercept: number, fn: number, center: number, width: number, invert: number, out: number): void;
  JPEG_HUFFMAN_TABLE_BYTES: WebAssembly.Global;
}

/** Bytes added to every allocation: the SIMD passes read and write up to 16 bytes past a buffer's end. */
const SLACK = 16;

export class ImageModule {
  constructor(
    readonly x: ImageExports,
    private readonly memory: WebAssembly.Memory,
  ) {}

  bytes(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, ptr, length);
  }

  floats(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }

  /** Runs `fn` with an arena whose allocations are all freed afterwards, also on error. */
  scratch<T>(fn: (arena: Arena) => T): T {
    const arena = new Arena(this);
    try {
      return fn(arena);
    } finally {
      arena.dispose();
    }
  }
}

export class Arena {
  private ptrs: number[] = [];
  constructor(readonly m: ImageModule) {}

  alloc(bytes: number, what: string): number {
    let ptr: number;
    try {
      ptr = this.m.x.alloc(bytes + SLACK) >>> 0;
    } catch {
      throw new Error(`image wasm: out of memory allocating ${bytes} bytes for ${what}`);
    }
    this.ptrs.push(ptr);
    return ptr;
  }

  /** Copies typed data into a fresh allocation. */
  put(data: ArrayBufferView, what: string): number {
    const ptr = this.alloc(data.byteLength, what);
    this.m.bytes(ptr, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return ptr;
  }

  dispose(): void {
    for (const p of this.ptrs) this.m.x.free(p);
    this.ptrs = [];
  }
}

let instance: Promise<ImageModule> | undefined;

export function imageModule(): Promise<ImageModule> {
  instance ??= instantiateEmbedded<ImageExports>('image', wasmBase64).then(({ exports, memory }) => new ImageModule(exports, memory));
  return instance;
}
