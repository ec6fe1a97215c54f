// A model or dataset folder as the code sees it, whether it is a directory on disk (Node) or
// files a user picked in the browser (File/Blob): names, sizes, whole reads and range reads.
import { platform } from '../platform/platform.js';

export interface FileSet {
  /** What to call the folder in errors. */
  readonly label: string;
  has(name: string): Promise<boolean>;
  size(name: string): Promise<number>;
  read(name: string): Promise<Uint8Array>;
  /** Bytes [start, end) without reading the rest of the file. */
  readRange(name: string, start: number, end: number): Promise<Uint8Array>;
}

/** A directory through the platform's file access (Node). */
export function dirFileSet(dir: string): FileSet {
  const p = platform();
  const need = <K extends keyof typeof p>(k: K): NonNullable<(typeof p)[K]> => {
    const f = p[k];
    if (!f) throw new Error(`${dir}: this runtime (${p.name}) has no file system; pass the files themselves (File/Blob objects)`);
    return f as NonNullable<(typeof p)[K]>;
  };
  const path = (name: string) => `${dir.replace(/\/+$/, '')}/${name}`;
  return {
    label: dir,
    has: (name) => need('isFile')(path(name)),
    size: (name) => need('fileSize')(path(name)),
    read: (name) => need('readFile')(path(name)),
    readRange: (name, start, end) => need('readRange')(path(name), start, end),
  };
}

/** Files picked in a browser (or any Blobs), by name; folder prefixes from webkitRelativePath are stripped. */
export function blobFileSet(files: Iterable<File> | Map<string, Blob>, label = 'selected files'): FileSet {
  const byName = new Map<string, Blob>();
  if (files instanceof Map) for (const [n, b] of files) byName.set(n, b);
  else for (const f of files) byName.set(f.name, f);
  const get = (name: string): Blob => {
    const b = byName.get(name);
    if (!b) throw new Error(`${label}: no file named '${name}' (have: ${[...byName.keys()].join(', ') || 'none'})`);
    return b;
  };
  return {
    label,
    has: async (name) => byName.has(name),
    size: async (name) => get(name).size,
    read: async (name) => new Uint8Array(await get(name).arrayBuffer()),
    readRange: async (name, start, end) => {
      const b = get(name);
      if (end > b.size) throw new Error(`${label}/${name}: file ends at byte ${b.size}, expected data up to ${end} (truncated?)`);
      return new Uint8Array(await b.slice(start, end).arrayBuffer());
    },
  };
}
