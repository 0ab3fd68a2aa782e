/**
 * Text <-> bytes for a byte-level tokenizer, exactly reversible for every JS string.
 *
 * Well-formed text is UTF-8. A lone surrogate (a JS string can hold one; UTF-8 cannot) is
 * written as WTF-8 does: the surrogate's code unit in the 3-byte pattern (ED A0..BF xx), which
 * no valid UTF-8 text contains, so decoding restores it. Any other invalid byte sequence, as a
 * model may generate, decodes to U+FFFD.
 */

/** String.prototype.isWellFormed (Node 20; not yet in this TypeScript lib). */
const wellFormed = (text: string) => (text as string & { isWellFormed(): boolean }).isWellFormed();

export function textBytes(text: string): Uint8Array {
  if (wellFormed(text)) return Buffer.from(text, 'utf8');
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}

/** Does the byte string hold a WTF-8 surrogate (ED A0..BF)? Valid UTF-8 never does. */
function hasSurrogate(bytes: Uint8Array): boolean {
  for (let i = bytes.indexOf(0xed); i !== -1 && i + 1 < bytes.length; i = bytes.indexOf(0xed, i + 1)) if (bytes[i + 1] >= 0xa0 && bytes[i + 1] <= 0xbf) return true;
  return false;
}

export function bytesText(bytes: Uint8Array): string {
  if (!hasSurrogate(bytes)) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  // Decode by hand: sequences as UTF-8, ED A0..BF xx as a lone surrogate, anything else as U+FFFD.
  let out = '';
  let i = 0;
  const cont = (k: number) => i + k < bytes.length && (bytes[i + k] & 0xc0) === 0x80;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      out += String.fromCharCode(b);
      i++;
    } else if (b >= 0xc2 && b < 0xe0 && cont(1)) {
      out += String.fromCharCode(((b & 31) << 6) | (bytes[i + 1] & 63));
      i += 2;
    } else if (b >= 0xe0 && b < 0xf0 && cont(1) && cont(2)) {
      const c = ((b & 15) << 12) | ((bytes[i + 1] & 63) << 6) | (bytes[i + 2] & 63);
      out += c >= 0x800 ? String.fromCharCode(c) : '\ufffd';
      i += 3;
    } else if (b >= 0xf0 && b < 0xf5 && cont(1) && cont(2) && cont(3)) {
      const c = ((b & 7) << 18) | ((bytes[i + 1] & 63) << 12) | ((bytes[i + 2] & 63) << 6) | (bytes[i + 3] & 63);
      out += c >= 0x10000 && c <= 0x10ffff ? String.fromCodePoint(c) : '\ufffd';
      i += 4;
    } else {
      out += '\ufffd';
      i++;
    }
  }
  return out;
}

/**
 * GPT-2's printable stand-in for each byte (as in tokenizer.json vocabularies): printable
 * Latin-1 bytes stand for themselves, the others are shifted to U+0100 onwards (space is "Ġ").
 */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const keep = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = [];
  let next = 256;
  for (let b = 0; b < 256; b++) out.push(String.fromCharCode(keep(b) ? b : next++));
  return out;
})();
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));
