import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { MetricsLog, lossCurveSvg, niceTicks, writeLossCurve, type MetricRecord } from '../../src/train/metrics.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'mede2-metrics-'));
}

function curve(steps: number): MetricRecord[] {
  const out: MetricRecord[] = [];
  for (let s = 1; s <= steps; s++) {
    out.push({ step: s, loss: 2.5 * Math.exp(-s / 30) + 0.4 + 0.05 * Math.sin(s), learning_rate: 1e-5 });
    if (s % 20 === 0) out.push({ step: s, eval_loss: 2.6 * Math.exp(-s / 35) + 0.5 });
  }
  return out;
}

describe('metrics.jsonl', () => {
  it('starts empty, appends one JSON object per line', async () => {
    const path = join(tempDir(), 'metrics.jsonl');
    writeFileSync(path, '{"step":1,"loss":9}\n'); // a previous run's file
    const log = await MetricsLog.open(path);
    await log.append({ step: 1, loss: 2.5, learning_rate: 1e-5 });
    await log.append({ step: 2, eval_loss: 2.25 });
    expect(readFileSync(path, 'utf8')).toBe('{"step":1,"loss":2.5,"learning_rate":0.00001}\n{"step":2,"eval_loss":2.25}\n');
    await expect(log.append({ step: NaN })).rejects.toThrow(/finite numeric step/);
  });

  it('on resume keeps the records up to the checkpoint and tolerates a line cut by a crash', async () => {
    const path = join(tempDir(), 'metrics.jsonl');
    writeFileSync(path, '{"step":1,"loss":3}\n{"step":2,"loss":2}\n{"step":3,"loss":1}\n{"step":4,"lo');
    const log = await MetricsLog.open(path, { resumeStep: 2 });
    expect(log.records).toEqual([
      { step: 1, loss: 3 },
      { step: 2, loss: 2 },
    ]);
    await log.append({ step: 3, loss: 1.5 });
    expect(readFileSync(path, 'utf8')).toBe('{"step":1,"loss":3}\n{"step":2,"loss":2}\n{"step":3,"loss":1.5}\n');
    writeFileSync(path, '{"step":1}\nnot json\n{"step":2}\n');
    await expect(MetricsLog.open(path, { resumeStep: 2 })).rejects.toThrow(/metrics\.jsonl:2: not a JSON metrics record/);
    const fresh = await MetricsLog.open(join(tempDir(), 'new.jsonl'), { resumeStep: 5 });
    expect(fresh.records).toEqual([]);
  });

  it('keeps records in memory where there is no file system', async () => {
    const log = MetricsLog.inMemory();
    await log.append({ step: 1, loss: 1 });
    expect(log.toJsonl()).toBe('{"step":1,"loss":1}\n');
  });
});

describe('loss curve', () => {
  it('picks round ticks that cover the range', () => {
    expect(niceTicks(0, 100)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(1, 97)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0.41, 2.93)).toEqual([0, 0.5, 1, 1.5, 2, 2.5, 3]); // 2.52 / 6 = 0.42 → step 0.5
    expect(niceTicks(2.31, 2.87)).toEqual([2.3, 2.4, 2.5, 2.6, 2.7, 2.8, 2.9]);
    expect(niceTicks(5, 5)).toEqual([2, 3, 4, 5, 6, 7, 8]); // one value: a range around it
  });

  it('draws train and eval loss with ticked axes and a legend', () => {
    const svg = lossCurveSvg(curve(100), 'SFT <tiny>');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('SFT &lt;tiny&gt;');
    const polylines = [...svg.matchAll(/<polyline points="([^"]+)"/g)].map((m) => m[1].split(' ').length);
    expect(polylines).toEqual([100, 5]); // 100 train points, 5 eval points
    expect(svg.match(/<circle /g)?.length).toBe(5);
    expect(svg).toContain('>train loss</text>');
    expect(svg).toContain('>eval loss</text>');
    for (const t of ['0', '20', '100', '0.5', '3.0']) expect(svg).toContain(`>${t}</text>`);
    // every point lies inside the plot frame
    const [, fx, fy, fw, fh] = /<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="none"/.exec(svg)!.map(Number);
    for (const m of svg.matchAll(/(\d+\.\d),(\d+\.\d)/g)) {
      const [x, y] = [Number(m[1]), Number(m[2])];
      expect(x >= fx && x <= fx + fw && y >= fy && y <= fy + fh).toBe(true);
    }
  });

  it('skips non-finite losses and draws a placeholder with no data', () => {
    const svg = lossCurveSvg([{ step: 1, loss: 2 }, { step: 2, loss: NaN }, { step: 3, loss: 1 }]);
    expect([...svg.matchAll(/<polyline points="([^"]+)"/g)].map((m) => m[1].split(' ').length)).toEqual([2]);
    expect(lossCurveSvg([])).toContain('no loss recorded yet');
  });

  it('writes the SVG atomically', async () => {
    const dir = tempDir();
    await writeLossCurve(join(dir, 'loss.svg'), curve(60));
    expect(readdirSync(dir)).toEqual(['loss.svg']);
    expect(readFileSync(join(dir, 'loss.svg'), 'utf8')).toBe(lossCurveSvg(curve(60)));
  });
});
