// The runtime: a backend plus grad mode and memory scopes. Tensors created inside
// `scope()` are released when it ends, except what it returns (moved to the enclosing
// scope) and what `keep()` exempts — so a training step frees all its temporaries.
import type { Backend } from '../backend/backend.js';
import { createBackend, type DeviceChoice } from '../backend/select.js';
import type { MemoryStats } from '../backend/storage.js';
import { isPacked, storageBytes, type DType } from './dtype.js';
import { checkShape, fmt, sizeOf, type Shape } from './shape.js';
import { StorageRef, Tensor } from './tensor.js';
import * as ops from './ops/index.js';

export class Runtime {
  gradEnabled = true;
  readonly ops = ops;
  private scopes: Set<Tensor>[] = [];

  constructor(readonly backend: Backend) {}

  static async create(device: DeviceChoice = 'auto'): Promise<Runtime> {
    return new Runtime((await createBackend(device)).backend);
  }

  private track(t: Tensor): Tensor {
    this.scopes[this.scopes.length - 1]?.add(t);
    return t;
  }

  /** An uninitialised tensor. `label` names the op in allocation errors. */
  empty(shape: Shape, dtype: DType = 'f32', label = 'empty'): Tensor {
    checkShape(shape, label);
    const storage = this.backend.alloc(Math.max(4, storageBytes(dtype, sizeOf(shape))), `${label} ${dtype}${fmt(shape)}`);
    return this.track(new Tensor(this, [...shape], dtype, new StorageRef(storage)));
  }

  /** A view of t with another shape over the same storage. */
  view(t: Tensor, shape: Shape): Tensor {
    const ref = t.ref;
    void t.storage; // throws if released
    ref.refs++;
    const v = new Tensor(this, [...shape], t.dtype, ref);
    v.host = t.host;
    return this.track(v);
  }

  /** A tensor from host values. Integer tensors keep a host copy (index ops need it). */
  tensor(data: ArrayLike<number>, shape: Shape = [data.length], dtype: 'f32' | 'i32' = 'f32'): Tensor {
    if (sizeOf(shape) !== data.length) throw new Error(`tensor: ${data.length} values do not fill shape ${fmt(shape)}`);
    const t = this.empty(shape, dtype, 'tensor');
    const arr = dtype === 'f32' ? Float32Array.from(data) : Int32Array.from(data);
    if (dtype === 'i32') t.host = arr as Int32Array;
    if (arr.length) this.backend.write(t.storage, arr);
    return t;
  }

  /** A frozen weight kept in its 16-bit format (bits as Uint16Array, e.g. straight from safetensors). */
  packed(bits: Uint16Array, shape: Shape, dtype: 'bf16' | 'f16'): Tensor {
    if (!isPacked(dtype)) throw new Error(`packed: dtype must be bf16 or f16, got ${dtype}`);
    if (sizeOf(shape) !== bits.length) throw new Error(`packed: ${bits.length} values do not fill shape ${fmt(shape)}`);
    const t = this.empty(shape, dtype, 'packed');
    const words = new Uint16Array(Math.ceil(bits.length / 2) * 2);
    words.set(bits);
    if (words.length) this.backend.write(t.storage, words);
    return t;
  }

  full(shape: Shape, value: number, dtype: 'f32' | 'i32' = 'f32'): Tensor {
    const t = this.empty(shape, dtype, 'full');
    this.backend.fill({ out: t.storage, n: t.size, value, dtype });
    return t;
  }

  zeros(shape: Shape): Tensor {
    return this.full(shape, 0);
  }

  /** A trainable leaf (f32), not owned by any scope. */
  parameter(data: ArrayLike<number>, shape: Shape, name = ''): Tensor {
    const t = this.keep(this.tensor(data, shape));
    t.requiresGrad = true;
    t.name = name;
    return t;
  }

  noGrad<T>(fn: () => T): T {
    const prev = this.gradEnabled;
    this.gradEnabled = false;
    try {
      return fn();
    } finally {
      this.gradEnabled = prev;
    }
  }

  /** Exempts t from every scope: the caller now owns it. */
  keep<T extends Tensor>(t: T): T {
    for (const s of this.scopes) s.delete(t);
    return t;
  }

  /**
   * Runs fn and releases every tensor it created, except those it returns (a tensor, an
   * array of tensors, or an object whose values are tensors), which move to the parent scope.
   */
  scope<T>(fn: () => T): T {
    this.scopes.push(new Set());
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.closeScope(undefined);
      throw e;
    }
    this.closeScope(result);
    return result;
  }

  /** scope() for async bodies. Scopes nest by call order: do not interleave two async scopes. */
  async scopeAsync<T>(fn: () => Promise<T>): Promise<T> {
    this.scopes.push(new Set());
    let result: T;
    try {
      result = await fn();
    } catch (e) {
      this.closeScope(undefined);
      throw e;
    }
    this.closeScope(result);
    return result;
  }

  private closeScope(result: unknown): void {
    const set = this.scopes.pop()!;
    const survivors = new Set<Tensor>();
    if (result instanceof Tensor) survivors.add(result);
    else if (Array.isArray(result)) for (const r of result) r instanceof Tensor && survivors.add(r);
    else if (result && typeof result === 'object' && !ArrayBuffer.isView(result)) for (const r of Object.values(result)) r instanceof Tensor && survivors.add(r);
    const parent = this.scopes[this.scopes.length - 1];
    for (const t of set) {
      if (survivors.has(t)) parent?.add(t);
      else t.release();
    }
  }

  memory(): MemoryStats {
    return this.backend.memory();
  }

  sync(): Promise<void> {
    return this.backend.sync();
  }
}
