// GPT-2's byte ↔ unicode table (tokenizers' `bytes_char`): printable Latin-1 bytes stand for
// themselves, the other 68 bytes take U+0100.. in order, so every byte is one visible char.

function build(): { byteToChar: string[]; charToByte: Int16Array } {
  const keep = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const byteToChar: string[] = new Array(256);
  const charToByte = new Int16Array(0x144).fill(-1);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const cp = keep(b) ? b : 0x100 + n++;
    byteToChar[b] = String.fromCharCode(cp);
    charToByte[cp] = b;
  }
  return { byteToChar, charToByte };
}

const table = build();

/** The char that stands for byte b in byte-level tokens. */
export function byteChar(b: number): string {
  return table.byteToChar[b];
}

/** The raw bytes of a byte-level token string, or undefined when a char is outside the alphabet. */
export function tokenBytes(token: string): Uint8Array | undefined {
  const out = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    const b = c < 0x144 ? table.charToByte[c] : -1;
    if (b < 0) return undefined;
    out[i] = b;
  }
  return out;
}
