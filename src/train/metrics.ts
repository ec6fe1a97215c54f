// Training metrics: one JSON object per line in metrics.jsonl (HF names: loss, eval_loss,
// learning_rate, grad_norm, …, always with step), and a loss-curve SVG of train and eval
// loss against step. In the browser (no file system) the log lives in memory.
import { platform } from '../platform/platform.js';

export interface MetricRecord {
  step: number;
  loss?: number;
  eval_loss?: number;
  [key: string]: unknown;
}

const encoder = new TextEncoder();

function parseMetrics(text: string, path: string): MetricRecord[] {
  const out: MetricRecord[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch {
      if (i === lines.length - 1) return; // no newline after it: an append cut short by a crash
      throw new Error(`${path}:${i + 1}: not a JSON metrics record`);
    }
    if (typeof r !== 'object' || r === null || typeof (r as MetricRecord).step !== 'number') throw new Error(`${path}:${i + 1}: a metrics record needs a numeric 'step'`);
    out.push(r as MetricRecord);
  });
  return out;
}

export class MetricsLog {
  private constructor(
    readonly path: string | undefined,
    readonly records: MetricRecord[],
  ) {}

  /** A log kept in memory only (browser); `toJsonl()` gives the file. */
  static inMemory(): MetricsLog {
    return new MetricsLog(undefined, []);
  }

  /**
   * The log file at path. A new run starts it empty; a resumed run (resumeStep: the
   * checkpoint's step) keeps the records up to that step and drops the later ones, which
   * the resumed run will write again.
   */
  static async open(path: string, options: { resumeStep?: number } = {}): Promise<MetricsLog> {
    const p = platform();
    if (!p.writeFileAtomic || !p.appendFile || !p.readFile) throw new Error(`MetricsLog.open: the ${p.name} platform cannot write files; use MetricsLog.inMemory()`);
    let kept: MetricRecord[] = [];
    if (options.resumeStep !== undefined) {
      const bytes = await p.readFile(path).catch((e: { code?: string }) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
      if (bytes) kept = parseMetrics(new TextDecoder().decode(bytes), path).filter((r) => r.step <= options.resumeStep!);
    }
    const log = new MetricsLog(path, kept);
    await p.writeFileAtomic(path, encoder.encode(log.toJsonl()));
    return log;
  }

  async append(record: MetricRecord): Promise<void> {
    if (!(typeof record.step === 'number' && Number.isFinite(record.step))) throw new Error(`MetricsLog.append: a record needs a finite numeric step, got ${JSON.stringify(record)}`);
    this.records.push(record);
    if (this.path) await platform().appendFile!(this.path, encoder.encode(JSON.stringify(record) + '\n'));
  }

  toJsonl(): string {
    return this.records.map((r) => JSON.stringify(r) + '\n').join('');
  }
}

// ---- loss curve -------------------------------------------------------------------------

const W = 720;
const H = 420;
const PAD = { left: 70, right: 24, top: 44, bottom: 56 };
const SERIES = [
  { key: 'loss', label: 'train loss', color: '#1f77b4' },
  { key: 'eval_loss', label: 'eval loss', color: '#d62728' },
] as const;

/** About `count` round tick values (1, 2 or 5 × 10^k apart) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (hi <= lo) [lo, hi] = [lo - (Math.abs(lo) || 1) * 0.5, hi + (Math.abs(hi) || 1) * 0.5];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let k = Math.floor(lo / step); k * step <= hi + step * 1e-9; k++) ticks.push(k * step);
  if (ticks[0] > lo) ticks.unshift(ticks[0] - step);
  if (ticks[ticks.length - 1] < hi) ticks.push(ticks[ticks.length - 1] + step);
  return ticks.map((t) => Number(t.toPrecision(12)));
}

function tickLabel(v: number, ticks: number[]): string {
  const step = ticks.length > 1 ? ticks[1] - ticks[0] : 1;
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return v.toFixed(Math.min(decimals, 8));
}

function escapeXml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** Train and eval loss against step, with ticked axes, grid and legend. Non-finite losses are skipped. */
export function lossCurveSvg(records: MetricRecord[], title = 'Loss'): string {
  const series = SERIES.map((s) => ({
    ...s,
    points: records.flatMap((r) => {
      const y = r[s.key];
      return typeof y === 'number' && Number.isFinite(y) && Number.isFinite(r.step) ? [[r.step, y] as [number, number]] : [];
    }),
  })).filter((s) => s.points.length);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="26" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  if (!series.length) {
    out.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle" fill="#666">no loss recorded yet</text>`, '</svg>');
    return out.join('\n') + '\n';
  }
  const all = series.flatMap((s) => s.points);
  const xTicks = niceTicks(Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0])));
  const yTicks = niceTicks(Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1])));
  const [x0, x1, y0, y1] = [xTicks[0], xTicks[xTicks.length - 1], yTicks[0], yTicks[yTicks.length - 1]];
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const px = (x: number) => (PAD.left + ((x - x0) / (x1 - x0)) * plotW).toFixed(1);
  const py = (y: number) => (PAD.top + (1 - (y - y0) / (y1 - y0)) * plotH).toFixed(1);
  const bottom = PAD.top + plotH;
  for (const t of xTicks)
    out.push(
      `<line x1="${px(t)}" y1="${PAD.top}" x2="${px(t)}" y2="${bottom}" stroke="#e5e5e5"/>`,
      `<line x1="${px(t)}" y1="${bottom}" x2="${px(t)}" y2="${bottom + 5}" stroke="#333"/>`,
      `<text x="${px(t)}" y="${bottom + 19}" text-anchor="middle">${tickLabel(t, xTicks)}</text>`,
    );
  for (const t of yTicks)
    out.push(
      `<line x1="${PAD.left}" y1="${py(t)}" x2="${PAD.left + plotW}" y2="${py(t)}" stroke="#e5e5e5"/>`,
      `<line x1="${PAD.left - 5}" y1="${py(t)}" x2="${PAD.left}" y2="${py(t)}" stroke="#333"/>`,
      `<text x="${PAD.left - 8}" y="${py(t)}" text-anchor="end" dy="0.35em">${tickLabel(t, yTicks)}</text>`,
    );
  out.push(
    `<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${PAD.left + plotW / 2}" y="${H - 14}" text-anchor="middle">step</text>`,
    `<text transform="translate(18 ${PAD.top + plotH / 2}) rotate(-90)" text-anchor="middle">loss</text>`,
  );
  series.forEach((s, i) => {
    const pts = s.points.map(([x, y]) => `${px(x)},${py(y)}`).join(' ');
    out.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2" stroke-linejoin="round"/>`);
    if (s.key === 'eval_loss' || s.points.length === 1) for (const [x, y] of s.points) out.push(`<circle cx="${px(x)}" cy="${py(y)}" r="3.5" fill="${s.color}"/>`);
    const ly = PAD.top + 16 + i * 18;
    const lx = PAD.left + plotW - 110;
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`,
      `<text x="${lx + 30}" y="${ly}" dy="0.35em">${s.label}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Writes the loss curve atomically (readers never see half an SVG). */
export async function writeLossCurve(path: string, records: MetricRecord[], title?: string): Promise<void> {
  const p = platform();
  if (!p.writeFileAtomic) throw new Error(`writeLossCurve: the ${p.name} platform cannot write files; use lossCurveSvg() and offer the text as a download`);
  await p.writeFileAtomic(path, encoder.encode(lossCurveSvg(records, title)));
}
