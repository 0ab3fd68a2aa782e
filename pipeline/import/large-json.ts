/**
 * One very large JSON object (a JSONL line of tens or hundreds of MB), parsed from its UTF-8
 * bytes. `JSON.parse` needs the line as a JS string first: for a 200 MB line that is a 400 MB
 * string made from the bytes, then the 400 MB strings it parses out, and two passes. Here each
 * top-level string value is unescaped in place, in the line's own buffer, and decoded once;
 * other values (numbers, nested objects, arrays) are small and go to `JSON.parse` alone.
 *
 * The result equals `JSON.parse(bytes.toString())` for every valid object (keys in order, the
 * last of duplicate keys, "__proto__" an own property), except that a lone surrogate escape
 * (`\ud800` without its pair) becomes U+FFFD: the UTF-8 the shard stores is the same either way.
 * Anything else (not an object, a syntax error, a raw control character in a string) gives
 * null, and the caller parses the text as usual, which reports the error as `JSON.parse` does.
 * The buffer is modified.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Where the string starting at `open` (a quote) closes; -1 when it does not. */
function stringEnd(b: Buffer, open: number): number {
  for (let at = open + 1; ; ) {
    const q = b.indexOf(QUOTE, at);
    if (q === -1) return -1;
    let slashes = 0;
    for (let k = q - 1; k > open && b[k] === BACKSLASH; k--) slashes++;
    if (slashes % 2 === 0) return q;
    at = q + 1;
  }
}

const hex = (b: Buffer, at: number): number => {
  let v = 0;
  for (let k = at; k < at + 4; k++) {
    const c = b[k];
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
    if (d < 0) return -1;
    v = (v << 4) | d;
  }
  return v;
};

/** Writes code point `cp` as UTF-8 at `w`; returns the new write position. */
function putUtf8(b: Buffer, w: number, cp: number): number {
  if (cp < 0x80) b[w++] = cp;
  else if (cp < 0x800) {
    b[w++] = 0xc0 | (cp >> 6);
    b[w++] = 0x80 | (cp & 0x3f);
  } else if (cp < 0x10000) {
    b[w++] = 0xe0 | (cp >> 12);
    b[w++] = 0x80 | ((cp >> 6) & 0x3f);
    b[w++] = 0x80 | (cp & 0x3f);
  } else {
    b[w++] = 0xf0 | (cp >> 18);
    b[w++] = 0x80 | ((cp >> 12) & 0x3f);
    b[w++] = 0x80 | ((cp >> 6) & 0x3f);
    b[w++] = 0x80 | (cp & 0x3f);
  }
  return w;
}

const SIMPLE_ESCAPES: Record<number, number> = { 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f, 0x62: 0x08, 0x66: 0x0c, 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09 };

/**
 * The string between quotes at `open` and `close`: with `write`, unescaped in place (an escape
 * is never shorter in UTF-8 than its text, so writing never overtakes reading); without, only
 * checked. Returns where its UTF-8 ends (it starts at open + 1), -1 when it is not a valid JSON string.
 */
function unescapeString(b: Buffer, open: number, close: number, write: boolean): number {
  let w = open + 1;
  let r = open + 1;
  while (r < close) {
    const slash = b.indexOf(BACKSLASH, r);
    const runEnd = slash === -1 || slash > close ? close : slash;
    // A raw control character is not allowed in a JSON string (checked once, before any write).
    if (!write) for (let k = r; k < runEnd; k++) if (b[k] < 0x20) return -1;
    if (write && w !== r) b.copy(b, w, r, runEnd);
    w += runEnd - r;
    r = runEnd;
    if (r === close) break;
    const e = b[r + 1];
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      if (write) b[w] = simple;
      w++;
      r += 2;
      continue;
    }
    if (e !== 0x75 || r + 6 > close) return -1;
    let cp = hex(b, r + 2);
    if (cp < 0) return -1;
    r += 6;
    if (cp >= 0xd800 && cp <= 0xdbff && r + 6 <= close && b[r] === BACKSLASH && b[r + 1] === 0x75) {
      const low = hex(b, r + 2);
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        r += 6;
      }
    }
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    if (write) w = putUtf8(b, w, cp);
  }
  return w;
}

/** Where the value starting at `at` (not a string) ends: brackets balanced, strings skipped. */
function valueEnd(b: Buffer, at: number, end: number): number {
  let depth = 0;
  for (let k = at; k < end; k++) {
    const c = b[k];
    if (c === QUOTE) {
      const close = stringEnd(b, k);
      if (close === -1 || close >= end) return -1;
      k = close;
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      if (depth === 0) return k;
      depth--;
    } else if (c === 0x2c && depth === 0) return k;
  }
  return depth === 0 ? end : -1;
}

const skipSpace = (b: Buffer, at: number, end: number) => {
  while (at < end && isSpace(b[at])) at++;
  return at;
};

interface Member {
  keyOpen: number;
  keyClose: number;
  /** A string value's quotes, or the extent of any other value. */
  valueOpen: number;
  valueClose: number;
  string: boolean;
}

/** The members of the object `bytes[open..close]` (braces), every string checked; nothing written. Null when invalid. */
function members(bytes: Buffer, open: number, close: number): Member[] | null {
  const found: Member[] = [];
  let at = skipSpace(bytes, open + 1, close);
  if (at === close) return found;
  for (;;) {
    if (bytes[at] !== QUOTE) return null;
    const keyClose = stringEnd(bytes, at);
    if (keyClose === -1 || keyClose >= close || unescapeString(bytes, at, keyClose, false) === -1) return null;
    const keyOpen = at;
    at = skipSpace(bytes, keyClose + 1, close);
    if (bytes[at] !== 0x3a) return null;
    at = skipSpace(bytes, at + 1, close);
    if (bytes[at] === QUOTE) {
      const end = stringEnd(bytes, at);
      if (end === -1 || end >= close || unescapeString(bytes, at, end, false) === -1) return null;
      found.push({ keyOpen, keyClose, valueOpen: at, valueClose: end, string: true });
      at = end + 1;
    } else {
      const stop = valueEnd(bytes, at, close);
      if (stop === -1 || stop === at) return null;
      found.push({ keyOpen, keyClose, valueOpen: at, valueClose: stop, string: false });
      at = stop;
    }
    at = skipSpace(bytes, at, close);
    if (at === close) return found;
    if (bytes[at] !== 0x2c) return null;
    at = skipSpace(bytes, at + 1, close);
  }
}

/**
 * The top-level JSON object in `bytes`, or null (see the module comment). `utf8`, when given,
 * receives each string value's UTF-8 bytes (a view of `bytes`) by key.
 */
export function parseLargeObject(bytes: Buffer, utf8?: Map<string, Uint8Array>): Record<string, unknown> | null {
  let end = bytes.length;
  while (end > 0 && isSpace(bytes[end - 1])) end--;
  const open = skipSpace(bytes, 0, end);
  if (bytes[open] !== 0x7b || bytes[end - 1] !== 0x7d) return null;
  // Checked whole before the first in-place write, so a null leaves the bytes as they were.
  const list = members(bytes, open, end - 1);
  if (!list) return null;
  const values: unknown[] = [];
  for (const m of list) {
    if (m.string) continue;
    try {
      values.push(JSON.parse(bytes.toString('utf8', m.valueOpen, m.valueClose)));
    } catch {
      return null;
    }
  }
  const record: Record<string, unknown> = {};
  let other = 0;
  for (const m of list) {
    const key = bytes.toString('utf8', m.keyOpen + 1, unescapeString(bytes, m.keyOpen, m.keyClose, true));
    let value = values[other];
    if (m.string) {
      const end = unescapeString(bytes, m.valueOpen, m.valueClose, true);
      value = bytes.toString('utf8', m.valueOpen + 1, end);
      utf8?.set(key, bytes.subarray(m.valueOpen + 1, end));
    } else {
      other++;
      utf8?.delete(key); // a later duplicate key's value wins, as in JSON.parse
    }
    // An own property even for "__proto__", as JSON.parse makes it.
    Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return record;
}
