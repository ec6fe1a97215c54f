// A Tensor: shape + dtype over a (possibly shared) backend storage, plus autograd links.
// Contiguous row-major always; reshape shares the storage (refcounted), everything else copies.
import type { Storage } from '../backend/storage.js';
import { storageBytes, type DType } from './dtype.js';
import { fmt, sizeOf, type Shape } from './shape.js';
import type { GradNode } from './autograd.js';
import type { Runtime } from './runtime.js';

/** A storage shared by reshaped views; freed when the last tensor over it is released. */
export class StorageRef {
  refs = 1;
  constructor(readonly storage: Storage) {}
}

let nextTensorId = 1;

export class Tensor {
  readonly id = nextTensorId++;
  readonly size: number;
  /** Set on tensors that take part in autograd (parameters, and outputs of ops on them). */
  requiresGrad = false;
  /** Accumulated gradient of a leaf tensor after backward(). */
  grad: Tensor | null = null;
  /** The op that produced this tensor (null for leaves and under noGrad). */
  node: GradNode | null = null;
  /** Host copy of small integer tensors made from host data (token ids, labels): index ops need it. */
  host: Int32Array | null = null;
  /** A name for errors and checkpoints (parameters). */
  name = '';
  private releasedFlag = false;

  constructor(
    readonly rt: Runtime,
    readonly shape: Shape,
    readonly dtype: DType,
    readonly ref: StorageRef,
  ) {
    this.size = sizeOf(shape);
  }

  get storage(): Storage {
    if (this.releasedFlag) throw new Error(`tensor ${this.describe()} was released and cannot be used`);
    return this.ref.storage;
  }

  get released(): boolean {
    return this.releasedFlag;
  }

  get rank(): number {
    return this.shape.length;
  }

  describe(): string {
    return `${this.name ? this.name + ' ' : ''}${this.dtype}${fmt(this.shape)}`;
  }

  /** Reads the values back (waits for the device). f32 → Float32Array, i32 → Int32Array, packed → Uint16Array bits. */
  async data(): Promise<Float32Array | Int32Array | Uint16Array> {
    const buf = await this.rt.backend.read(this.storage, 0, storageBytes(this.dtype, this.size));
    if (this.dtype === 'f32') return new Float32Array(buf);
    if (this.dtype === 'i32') return new Int32Array(buf);
    return new Uint16Array(buf, 0, this.size);
  }

  async f32(): Promise<Float32Array> {
    if (this.dtype !== 'f32') throw new Error(`f32(): tensor ${this.describe()} is not f32`);
    return (await this.data()) as Float32Array;
  }

  /** Reads a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`item(): tensor ${this.describe()} has ${this.size} elements, not 1`);
    return (await this.data())[0];
  }

  /** Frees the storage once no other view holds it. Idempotent. */
  release(): void {
    if (this.releasedFlag) return;
    this.releasedFlag = true;
    if (--this.ref.refs === 0) this.rt.backend.free(this.ref.storage);
  }
}
