// Node: WebGPU from the `webgpu` package (Dawn). The object create() returns must stay
// referenced while its adapter is used, or the process crashes when it is collected.
import { appendFile, mkdir, open, readFile, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tuningVariable, type Platform } from './platform.js';

let dawn: GPU | undefined;
let tried = false;

/** Dawn toggles, e.g. MEDE2_DAWN_FLAGS="enable-dawn-features=allow_unsafe_apis". */
function dawnFlags(): string[] {
  const f = process.env.MEDE2_DAWN_FLAGS;
  return f ? f.split(/\s+/).filter(Boolean) : [];
}

export const nodePlatform: Platform = {
  name: 'node',
  async gpu() {
    if (!tried) {
      tried = true;
      process.env.XDG_RUNTIME_DIR ??= '/tmp'; // Vulkan loaders warn and some ICDs fail without it
      try {
        const { create, globals } = await import('webgpu');
        Object.assign(globalThis, globals); // GPUBufferUsage & co. as in the browser
        dawn = create(dawnFlags()) as GPU;
      } catch {
        dawn = undefined;
      }
    }
    return dawn;
  },
  readFile: (path) => readFile(path),
  readRange,
  fileSize: async (path) => (await stat(path)).size,
  isFile: (path) => stat(path).then((s) => s.isFile(), (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' || e.code === 'ENOTDIR' ? false : Promise.reject(e))),
  writeFileAtomic,
  writeChunksAtomic: writeFileAtomic,
  appendFile: (path, bytes) => appendFile(path, bytes),
  mkdirp: async (path) => {
    await mkdir(path, { recursive: true });
  },
  listDir: async (path) =>
    (await readdir(path, { withFileTypes: true })).map((d) => ({ name: d.name, kind: d.isFile() ? 'file' : d.isDirectory() ? 'dir' : 'other' })),
  rename: (from, to) => rename(from, to),
  remove: (path) => rm(path, { recursive: true, force: true }),
  tuningFiles: (kind) => (process.env[tuningVariable(kind)] ?? '').split(',').map((f) => f.trim()).filter(Boolean),
};

async function readRange(path: string, start: number, end: number): Promise<Uint8Array> {
  const f = await open(path, 'r');
  try {
    const out = new Uint8Array(end - start);
    let at = 0;
    while (at < out.length) {
      const { bytesRead } = await f.read(out, at, out.length - at, start + at);
      if (bytesRead === 0) throw new Error(`${path}: file ends at byte ${start + at}, expected data up to ${end} (truncated?)`);
      at += bytesRead;
    }
    return out;
  } finally {
    await f.close();
  }
}

let tempCounter = 0;

/** Temp file beside the target (same file system, so rename is atomic), fsync'd before the rename. */
async function writeFileAtomic(path: string, bytes: Uint8Array | readonly Uint8Array[]): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${tempCounter++}`;
  try {
    const f = await open(temp, 'wx');
    try {
      await writeFile(f, bytes);
      await f.sync();
    } finally {
      await f.close();
    }
    await rename(temp, path);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw e;
  }
}
