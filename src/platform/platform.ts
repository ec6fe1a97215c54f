// The only seam between Node and the browser: GPU acquisition (and, as they arrive,
// file access). Entry points (src/node.ts, src/browser.ts) install one at import time.

export interface Platform {
  name: 'node' | 'browser';
  /** The WebGPU entry point, or undefined when this runtime has none. */
  gpu(): Promise<GPU | undefined>;
  /** A file's bytes, where the runtime has a file system (Node); rejects with the system error (code ENOENT, EISDIR, ...). */
  readFile?(path: string): Promise<Uint8Array>;
  /** Bytes [start, end) of a file, read without loading the rest (multi-GB checkpoints). */
  readRange?(path: string, start: number, end: number): Promise<Uint8Array>;
  /** A file's size in bytes. */
  fileSize?(path: string): Promise<number>;
  /** Whether path names an existing regular file (false when missing). */
  isFile?(path: string): Promise<boolean>;
  /** Writes bytes to a temporary file in the same folder, flushes it, then renames it over path: readers see the old or the new file, never part of one. */
  writeFileAtomic?(path: string, bytes: Uint8Array): Promise<void>;
  /** writeFileAtomic for content given as chunks, written in order: files larger than one typed array can hold (4 GiB in Node 20). */
  writeChunksAtomic?(path: string, chunks: readonly Uint8Array[]): Promise<void>;
  /** Appends bytes to path, creating it when missing. */
  appendFile?(path: string, bytes: Uint8Array): Promise<void>;
  /** Creates a folder and its missing parents (no error when it exists). */
  mkdirp?(path: string): Promise<void>;
  /** A folder's entries (names only, unsorted); rejects with the system error when it cannot be read. */
  listDir?(path: string): Promise<DirEntry[]>;
  /** Renames a file or folder (replacing a file at `to`). */
  rename?(from: string, to: string): Promise<void>;
  /** Deletes a file or a folder with everything in it; no error when it is missing. */
  remove?(path: string): Promise<void>;
  /**
   * Tuning tables (JSON) of one kind that each WebGPU backend loads when it is made (Node:
   * MEDE2_MATMUL_TUNING, MEDE2_ATTENTION_TUNING, comma-separated).
   */
  tuningFiles?(kind: TuningKind): string[];
}

/** What a tuning table tunes: matrix-product plans or attention tiles. */
export type TuningKind = 'matmul' | 'attention';

/** The environment variable that names a kind's tuning tables where there is an environment (Node). */
export const tuningVariable = (kind: TuningKind): string => `MEDE2_${kind.toUpperCase()}_TUNING`;

export interface DirEntry {
  name: string;
  kind: 'file' | 'dir' | 'other';
}

let current: Platform | undefined;

export function setPlatform(p: Platform): void {
  current = p;
}

export function platform(): Platform {
  if (!current) throw new Error("mede2: no platform installed; import 'mede2' (which picks Node or browser) rather than internal modules");
  return current;
}
