// Which tuning tables an adapter runs with: one measured on it (registered by useMatmulTuning /
// useAttentionTuning or the MEDE2_*_TUNING variables), or the built-in ones measured on an H100.
import { attentionTuningFor } from './kernels/attention.js';
import { tuningFor } from './kernels/matmul.js';

export interface TableInUse {
  /** The table was measured on this adapter. */
  measuredHere: boolean;
  /** The adapter the table was measured on. */
  adapter: string;
  /** When it was measured (the built-in attention tiles have no table, so no date). */
  date?: string;
}

export interface TuningInUse {
  matmul: TableInUse;
  attention: TableInUse;
}

export function tuningInUse(adapter: string): TuningInUse {
  const m = tuningFor(adapter);
  const a = attentionTuningFor(adapter);
  const tuned = a && Object.values(a.tiles).some((byClass) => Object.keys(byClass ?? {}).length > 0);
  return {
    matmul: { measuredHere: m.adapter === adapter, adapter: m.adapter, date: m.date },
    attention: tuned ? { measuredHere: true, adapter: a.adapter, date: a.date } : { measuredHere: false, adapter: 'an H100' },
  };
}

/** One line per kind, for `mede2 info`. */
export function describeTuning(t: TuningInUse): string[] {
  const line = (what: string, u: TableInUse) =>
    u.measuredHere
      ? `${what}: a table measured on this adapter (${u.date})`
      : `${what}: built in, measured on ${u.adapter} (right on any adapter, tuned there; README: Performance says how to tune)`;
  return [line('matrix products', t.matmul), line('attention tiles', t.attention)];
}
