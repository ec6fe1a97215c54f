// Files the user gives the page — from a file or folder picker, a drop, or a zip — as paths
// relative to the folder they chose (the folder's own name dropped), as the worker mounts them.
import { unzipSync } from 'fflate';
import type { PickedFile } from './protocol.js';

/** 'folder/sub/file' → 'sub/file'; a bare name stays as it is. */
function withinFolder(path: string): string {
  const cut = path.indexOf('/');
  return cut < 0 ? path : path.slice(cut + 1);
}

/** A file input's selection (webkitRelativePath is set for folder pickers). */
export function fromInput(input: HTMLInputElement): PickedFile[] {
  return [...(input.files ?? [])].map((file) => ({ path: withinFolder(file.webkitRelativePath || file.name), file }));
}

function entryFile(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

/** All entries of a directory (readEntries returns them in batches until an empty one). */
async function entries(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (!batch.length) return all;
    all.push(...batch);
  }
}

async function walk(entry: FileSystemEntry, prefix: string, out: PickedFile[]): Promise<void> {
  if (entry.isFile) out.push({ path: prefix + entry.name, file: await entryFile(entry as FileSystemFileEntry) });
  else if (entry.isDirectory) for (const e of await entries(entry as FileSystemDirectoryEntry)) await walk(e, `${prefix}${entry.name}/`, out);
}

/** Dropped files and folders; one dropped folder's contents are relative to it. */
export async function fromDrop(dt: DataTransfer): Promise<PickedFile[]> {
  const roots = [...dt.items].map((i) => i.webkitGetAsEntry()).filter((e): e is FileSystemEntry => e !== null);
  // Without entries (a browser lacking them, or files handed over by script) only plain files come through.
  if (!roots.length) return [...dt.files].map((file) => ({ path: file.name, file }));
  const out: PickedFile[] = [];
  for (const root of roots) await walk(root, '', out);
  if (roots.length === 1 && roots[0].isDirectory) return out.map((f) => ({ path: withinFolder(f.path), file: f.file }));
  return out;
}

/** A zip's files; a single top folder they all share (checkpoint-N/) is dropped. */
export async function fromZip(file: File): Promise<PickedFile[]> {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(new Uint8Array(await file.arrayBuffer()));
  } catch (e) {
    throw new Error(`${file.name}: not a readable zip (${(e as Error).message})`);
  }
  const paths = Object.keys(entries).filter((p) => !p.endsWith('/'));
  const tops = new Set(paths.map((p) => (p.includes('/') ? p.slice(0, p.indexOf('/')) : '')));
  const strip = tops.size === 1 && !tops.has('');
  return paths.map((p) => ({ path: strip ? withinFolder(p) : p, file: new File([entries[p] as Uint8Array<ArrayBuffer>], p.slice(p.lastIndexOf('/') + 1)) }));
}
