// Added tokens (tokenizer.json "added_tokens"), found before pre-tokenization the way
// tokenizers' AddedVocabulary does: leftmost-longest matches, `single_word` tokens only
// between non-word chars, `lstrip`/`rstrip` taking the whitespace beside them.
import type { AddedTokenSpec } from './config.js';

/** A span of the text: an added token's id, or undefined for text to tokenize. */
export interface Span {
  start: number;
  end: number;
  id?: number;
}

const WORD = /[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]/u; // Rust regex's Unicode \w
const SPACE = /\p{White_Space}/u; // Rust regex's \s; all such chars are in the BMP

function codePointBefore(s: string, i: number): string {
  const lo = s.charCodeAt(i - 1);
  return lo >= 0xdc00 && lo <= 0xdfff && i >= 2 ? s.slice(i - 2, i) : s.slice(i - 1, i);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class AddedTokenMatcher {
  private readonly re: RegExp | undefined;
  private readonly byContent: Map<string, AddedTokenSpec>;

  constructor(tokens: AddedTokenSpec[]) {
    const usable = tokens.filter((t) => t.content.length > 0);
    this.byContent = new Map(usable.map((t) => [t.content, t]));
    // longest first: at the leftmost position the regex takes the first alternative that matches
    const alts = [...this.byContent.keys()].sort((a, b) => b.length - a.length).map(escapeRegex);
    this.re = alts.length ? new RegExp(alts.join('|'), 'g') : undefined;
  }

  /** Splits text into added-token spans and the text between them (all of it covered, in order). */
  split(text: string): Span[] {
    const re = this.re;
    if (!re || !text) return [{ start: 0, end: text.length }];
    const spans: Span[] = [];
    let done = 0;
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const tok = this.byContent.get(m[0])!;
      let start = m.index;
      let stop = start + m[0].length;
      if (tok.singleWord) {
        const before = start > 0 && WORD.test(codePointBefore(text, start));
        const after = stop < text.length && WORD.test(String.fromCodePoint(text.codePointAt(stop)!));
        if (before || after) continue;
      }
      if (tok.lstrip) {
        let s = start;
        while (s > 0 && SPACE.test(text[s - 1])) s--;
        start = Math.max(s, done);
      }
      if (tok.rstrip) while (stop < text.length && SPACE.test(text[stop])) stop++;
      if (done < start) spans.push({ start: done, end: start });
      spans.push({ start, end: stop, id: tok.id });
      done = stop;
    }
    if (done !== text.length) spans.push({ start: done, end: text.length });
    return spans;
  }
}
