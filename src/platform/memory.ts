// An in-memory file system with the Platform's file methods, for runtimes without one (the
// browser page's training worker). Files are Blobs (what a user picked: read lazily, by range) or
// bytes (what the run writes). With it, the code that writes checkpoints, adapters and metrics
// in Node writes the same folders here, and the page offers them as downloads. Errors carry
// Node's codes (ENOENT, EISDIR, ENOTDIR), which callers test.
import type { DirEntry, Platform } from './platform.js';

type Data = Blob | Uint8Array;

function fsError(code: string, op: string, path: string): Error {
  return Object.assign(new Error(`${code}: ${op} '${path}'`), { code });
}

/** '/a//b/./c/' → 'a/b/c' (the root is ''); '..' is refused: nothing here lives above the root. */
function normalize(path: string): string {
  const parts = path.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw fsError('EINVAL', 'resolve', path);
  return parts.join('/');
}

function parent(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut < 0 ? '' : path.slice(0, cut);
}

const bytesOf = async (d: Data): Promise<Uint8Array> => (d instanceof Uint8Array ? d : new Uint8Array(await d.arrayBuffer()));

export type MemoryPlatformFiles = Required<Pick<Platform, 'readFile' | 'readRange' | 'fileSize' | 'isFile' | 'writeFileAtomic' | 'appendFile' | 'mkdirp' | 'listDir' | 'rename' | 'remove'>>;

export class MemoryFiles {
  private readonly files = new Map<string, Data>();
  private readonly dirs = new Set<string>(['']);

  /** Adds (or replaces) a file, creating its folders. */
  put(path: string, data: Data): void {
    const p = normalize(path);
    if (this.dirs.has(p)) throw fsError('EISDIR', 'write', path);
    this.mkdirs(parent(p));
    this.files.set(p, data);
  }

  /** Every file under folder `dir`, by path relative to it, in path order. */
  list(dir: string): [string, Data][] {
    const d = normalize(dir);
    const prefix = d ? `${d}/` : '';
    return [...this.files]
      .filter(([p]) => p.startsWith(prefix))
      .map(([p, data]): [string, Data] => [p.slice(prefix.length), data])
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  private mkdirs(dir: string): void {
    for (let d = dir; !this.dirs.has(d); d = parent(d)) {
      if (this.files.has(d)) throw fsError('ENOTDIR', 'mkdir', d);
      this.dirs.add(d);
    }
  }

  private get(path: string, op: string): Data {
    const p = normalize(path);
    const f = this.files.get(p);
    if (f !== undefined) return f;
    throw fsError(this.dirs.has(p) ? 'EISDIR' : 'ENOENT', op, path);
  }

  /** The Platform's file methods over these files. */
  platform(): MemoryPlatformFiles {
    return {
      readFile: async (path) => bytesOf(this.get(path, 'open')),
      readRange: async (path, start, end) => {
        const f = this.get(path, 'open');
        const size = f instanceof Uint8Array ? f.length : f.size;
        if (end > size) throw new Error(`${path}: file ends at byte ${size}, expected data up to ${end} (truncated?)`);
        return f instanceof Uint8Array ? f.slice(start, end) : new Uint8Array(await f.slice(start, end).arrayBuffer());
      },
      fileSize: async (path) => {
        const f = this.get(path, 'stat');
        return f instanceof Uint8Array ? f.length : f.size;
      },
      isFile: async (path) => this.files.has(normalize(path)),
      writeFileAtomic: async (path, bytes) => this.put(path, bytes.slice()),
      appendFile: async (path, bytes) => {
        const p = normalize(path);
        const old = this.files.has(p) ? await bytesOf(this.files.get(p)!) : new Uint8Array(0);
        const joined = new Uint8Array(old.length + bytes.length);
        joined.set(old);
        joined.set(bytes, old.length);
        this.put(p, joined);
      },
      mkdirp: async (path) => this.mkdirs(normalize(path)),
      listDir: async (path) => {
        const d = normalize(path);
        if (!this.dirs.has(d)) throw fsError(this.files.has(d) ? 'ENOTDIR' : 'ENOENT', 'scandir', path);
        const prefix = d ? `${d}/` : '';
        const out: DirEntry[] = [];
        for (const p of this.dirs) if (p !== d && p.startsWith(prefix) && !p.slice(prefix.length).includes('/')) out.push({ name: p.slice(prefix.length), kind: 'dir' });
        for (const p of this.files.keys()) if (p.startsWith(prefix) && !p.slice(prefix.length).includes('/')) out.push({ name: p.slice(prefix.length), kind: 'file' });
        return out;
      },
      rename: async (from, to) => {
        const [f, t] = [normalize(from), normalize(to)];
        if (this.files.has(f)) {
          this.put(t, this.files.get(f)!);
          this.files.delete(f);
          return;
        }
        if (!this.dirs.has(f) || f === '') throw fsError('ENOENT', 'rename', from);
        if (this.dirs.has(t) || this.files.has(t)) throw fsError('EEXIST', 'rename', to); // as a folder rename over a non-empty one
        this.mkdirs(parent(t));
        const moved = (p: string) => p === f || p.startsWith(`${f}/`);
        for (const p of [...this.dirs].filter(moved)) {
          this.dirs.delete(p);
          this.dirs.add(t + p.slice(f.length));
        }
        for (const [p, data] of [...this.files].filter(([p]) => moved(p))) {
          this.files.delete(p);
          this.files.set(t + p.slice(f.length), data);
        }
      },
      remove: async (path) => {
        const p = normalize(path);
        const gone = (q: string) => q === p || p === '' || q.startsWith(`${p}/`);
        for (const q of [...this.files.keys()]) if (gone(q)) this.files.delete(q);
        for (const q of [...this.dirs]) if (q !== '' && gone(q)) this.dirs.delete(q);
      },
    };
  }
}
