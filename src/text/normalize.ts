// Unicode normalization (String.prototype.normalize) that remembers where each output code
// unit came from, so token offsets can point into the original text. ASCII never composes
// with what precedes it, so only the clusters between ASCII chars that the form changes
// need aligning; there, as in tokenizers, an output char maps to the original char its
// decomposition starts in (a composed "é" to the "e" of "e\u0301", each char of an
// expanded ligature to the ligature).
import type { NormalForm } from './config.js';

export interface Normalized {
  text: string;
  /** Original [start, end) per output code unit; undefined when the text did not change. */
  starts?: Uint32Array;
  ends?: Uint32Array;
}

function applyForms(s: string, forms: NormalForm[]): string {
  for (const f of forms) s = s.normalize(f);
  return s;
}

/** Code points of c's full decomposition (compatibility when any form is K). */
function decomposedLength(c: string, compat: boolean): number {
  let n = 0;
  for (const _ of c.normalize(compat ? 'NFKD' : 'NFD')) n++;
  return n;
}

export function normalize(text: string, forms: NormalForm[]): Normalized {
  if (!forms.length) return { text };
  const whole = applyForms(text, forms);
  if (whole === text) return { text };
  const compat = forms.some((f) => f.startsWith('NFK'));
  const starts = new Uint32Array(whole.length);
  const ends = new Uint32Array(whole.length);
  let o = 0;
  const isAscii = (k: number) => text.charCodeAt(k) < 0x80;
  for (let i = 0; i < text.length; ) {
    if (isAscii(i) && (i + 1 === text.length || isAscii(i + 1))) {
      starts[o] = i;
      ends[o++] = ++i;
      continue;
    }
    let j = i + 1;
    while (j < text.length && !isAscii(j)) j++;
    const cluster = text.slice(i, j);
    const norm = applyForms(cluster, forms);
    if (norm === cluster) {
      for (let k = i; k < j; k++) {
        starts[o] = k;
        ends[o++] = k + 1;
      }
    } else {
      // owner (original char span) of each position of the cluster's decomposition
      const owner: number[] = [];
      let u = i;
      for (const ch of cluster) {
        for (let k = decomposedLength(ch, compat); k > 0; k--) owner.push(u, u + ch.length);
        u += ch.length;
      }
      let pos = 0;
      for (const ch of norm) {
        const at = 2 * Math.min(pos, owner.length / 2 - 1);
        for (let k = 0; k < ch.length; k++) {
          starts[o] = owner[at];
          ends[o++] = owner[at + 1];
        }
        pos += decomposedLength(ch, compat);
      }
    }
    i = j;
  }
  if (o !== whole.length) throw new Error('normalize: clustered normalization disagrees with whole-text normalization');
  return { text: whole, starts, ends };
}
