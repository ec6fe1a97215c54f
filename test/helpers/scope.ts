// Tracks the storages a test allocates so one call frees them all.
import type { Backend } from '../../src/backend/backend.js';
import type { Storage } from '../../src/backend/storage.js';
import { upload } from './backends.js';

export class StorageScope {
  private owned: Storage[] = [];
  constructor(readonly backend: Backend) {}

  /** A storage holding `data`. */
  input(data: Float32Array | Int32Array | Uint32Array | Uint16Array): Storage {
    const s = upload(this.backend, data);
    this.owned.push(s);
    return s;
  }

  /** A storage of n f32 elements, filled with `poison` so unwritten elements show. */
  output(n: number, poison = Number.NaN): Storage {
    return this.input(new Float32Array(Math.max(1, n)).fill(poison));
  }

  free(): void {
    for (const s of this.owned) this.backend.free(s);
    this.owned = [];
  }
}
