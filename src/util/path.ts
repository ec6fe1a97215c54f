// Path arithmetic without node:path, so core modules stay runtime-neutral. '/' and '\' both
// separate; a leading '/' or a drive letter ('C:\', 'C:/') makes a path absolute.

export function isAbsolutePath(p: string): boolean {
  return p.startsWith('/') || p.startsWith('\\') || /^[A-Za-z]:[\\/]/.test(p);
}

/** The folder part of a path ('' for a bare file name). */
export function dirname(p: string): string {
  const cut = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
  return cut < 0 ? '' : cut === 0 ? p.slice(0, 1) : p.slice(0, cut);
}

export function basename(p: string): string {
  return p.slice(Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\')) + 1);
}

/** Joins path parts with '/', without doubling separators. */
export function joinPath(...parts: string[]): string {
  return parts
    .filter((p) => p !== '')
    .map((p, i) => (i === 0 ? p.replace(/[\\/]+$/, '') || p.slice(0, 1) : p.replace(/^[\\/]+|[\\/]+$/g, '')))
    .join('/')
    .replace(/^\/\//, '/');
}

/** `rel` as seen from the folder holding `baseFile`; absolute paths are returned as they are. */
export function resolveBeside(baseFile: string, rel: string): string {
  return isAbsolutePath(rel) ? rel : joinPath(dirname(baseFile), rel);
}
