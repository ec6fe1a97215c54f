// Decoders of tokenizer.json: token strings → text. ByteLevel maps byte-level chars back to
// bytes (a token with other chars contributes its own UTF-8) and decodes lossily, as
// tokenizers' String::from_utf8_lossy does; ByteFallback turns runs of <0xXX> tokens into text.
import type { Decoder } from './config.js';
import { tokenBytes } from './bytelevel.js';

const utf8 = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF: it is text here, not a byte order mark
const lossy = new TextDecoder('utf-8', { ignoreBOM: true });
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const BYTE_TOKEN = /^<0x([0-9A-Fa-f]{2})>$/;

/** Bytes each token string stands for, kept per tokenizer: decoding looks up the same tokens again and again. */
export type ByteCache = Map<string, Uint8Array>;

function byteLevel(tokens: string[], cache: ByteCache): string[] {
  const parts = tokens.map((t) => {
    let b = cache.get(t);
    if (!b) cache.set(t, (b = tokenBytes(t) ?? utf8.encode(t)));
    return b;
  });
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return [lossy.decode(all)];
}

function byteFallback(tokens: string[]): string[] {
  const out: string[] = [];
  let pending: number[] = [];
  const flush = () => {
    if (!pending.length) return;
    try {
      out.push(strict.decode(Uint8Array.from(pending)));
    } catch {
      for (let i = 0; i < pending.length; i++) out.push('\ufffd'); // one replacement per byte, as tokenizers does
    }
    pending = [];
  };
  for (const t of tokens) {
    const m = t.length === 6 ? BYTE_TOKEN.exec(t) : null;
    if (m) pending.push(parseInt(m[1], 16));
    else {
      flush();
      out.push(t);
    }
  }
  flush();
  return out;
}

export function decodeTokens(tokens: string[], decoders: Decoder[], cache: ByteCache): string {
  for (const d of decoders) tokens = d.type === 'ByteLevel' ? byteLevel(tokens, cache) : byteFallback(tokens);
  return tokens.join('');
}
