// The only seam between Node and the browser: GPU acquisition (and, as they arrive,
// file access). Entry points (src/node.ts, src/browser.ts) install one at import time.

export interface Platform {
  name: 'node' | 'browser';
  /** The WebGPU entry point, or undefined when this runtime has none. */
  gpu(): Promise<GPU | undefined>;
  /** A file's bytes, where the runtime has a file system (Node); rejects with the system error (code ENOENT, EISDIR, ...). */
  readFile?(path: string): Promise<Uint8Array>;
}

let current: Platform | undefined;

export function setPlatform(p: Platform): void {
  current = p;
}

export function platform(): Platform {
  if (!current) throw new Error("mede2: no platform installed; import 'mede2' (which picks Node or browser) rather than internal modules");
  return current;
}
