// The contract between bench/main.ts and a benchmark suite, and how results are kept:
// one JSON file per suite and adapter under the results folder, and a table on stdout.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../src/backend/backend.js';

export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;

export interface SuiteOutput {
  /** How times were taken, e.g. "timestamp-query, median of 5". */
  timing: string;
  rows: Row[];
}

/** A suite measures one backend; it is run once per backend the command line selects. */
export type Suite = (backend: Backend) => Promise<SuiteOutput>;

/** File-name form of an adapter: "wasm", or e.g. "nvidia-hopper-nvidia-h100-80gb-hbm3". */
export function adapterSlug(backend: Backend): string {
  if (backend.info.kind === 'wasm') return 'wasm';
  return (
    backend.info.description
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 60) || 'webgpu'
  );
}

export function writeResults(dir: string, suite: string, backend: Backend, tag: string, out: SuiteOutput): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${suite}-${adapterSlug(backend)}${tag ? `-${tag}` : ''}.json`);
  const doc = {
    suite,
    backend: backend.info.kind,
    adapter: backend.info.description,
    features: backend.info.features,
    tag: tag || undefined,
    dawnFlags: process.env.MEDE2_DAWN_FLAGS || undefined,
    date: new Date().toISOString(),
    timing: out.timing,
    rows: out.rows,
  };
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  return file;
}

/** Prints rows as an aligned text table (numbers right-aligned). */
export function printTable(rows: Row[]): void {
  if (!rows.length) return;
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const text = (v: Cell | undefined) => (v === undefined || v === null ? '' : typeof v === 'number' ? fmtNumber(v) : String(v));
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => text(r[c]).length)));
  const line = (cells: string[], numeric: boolean[]) => cells.map((s, i) => (numeric[i] ? s.padStart(width[i]) : s.padEnd(width[i]))).join('  ');
  console.log(line(cols, cols.map(() => false)));
  for (const r of rows)
    console.log(
      line(
        cols.map((c) => text(r[c])),
        cols.map((c) => typeof r[c] === 'number'),
      ),
    );
}

function fmtNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3);
}
