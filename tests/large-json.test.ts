/**
 * The byte-level parser of very large JSONL lines (pipeline/import/large-json.ts) against
 * JSON.parse: the same object for valid lines, null (so the caller's JSON.parse reports the
 * error) for everything else, and the bytes untouched when it gives up.
 */
import { describe, expect, it } from 'vitest';
import { parseLargeObject } from '../pipeline/import/large-json.js';
import { Random } from '../pipeline/core/random.js';

/** Integers in [0, n). */
class R extends Random {
  below(n: number): number {
    return this.int(0, n - 1);
  }
}

const PIECES = ['a', 'Z', ' ', 'é', '日本', '🚀', '"', '\\', '/', '\n', '\t', '\r', '\b', '\f', '\u0001', '\u2028', '\ud83d\ude00', 'x'.repeat(50)];

function randomString(r: R): string {
  let s = '';
  for (let n = r.below(12); n > 0; n--) s += PIECES[r.below(PIECES.length)];
  return s;
}

function randomValue(r: R, depth: number): unknown {
  switch (r.below(depth > 2 ? 5 : 7)) {
    case 0:
      return randomString(r);
    case 1:
      return r.below(2) ? r.below(1e6) - 5e5 : (r.below(1e6) - 5e5) / 7;
    case 2:
      return r.below(2) === 1;
    case 3:
      return null;
    case 4:
      return r.below(2) ? 1e300 : -0.5e-7;
    case 5:
      return Array.from({ length: r.below(4) }, () => randomValue(r, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: r.below(4) }, () => [randomString(r), randomValue(r, depth + 1)]));
  }
}

/** JSON text with escapes written in every form JSON allows: \uXXXX for some characters, spaces around tokens. */
function serialize(r: R, value: unknown): string {
  const space = () => [' ', '', '\t', '  '][r.below(4)];
  if (typeof value === 'string') {
    let out = '"';
    for (const ch of value) {
      const json = JSON.stringify(ch).slice(1, -1);
      if (r.below(4) === 0) for (const unit of ch.split('')) out += `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`;
      else out += json === '/' && r.below(2) ? '\\/' : json;
    }
    return `${out}"`;
  }
  if (Array.isArray(value)) return `[${space()}${value.map((v) => serialize(r, v)).join(`${space()},${space()}`)}${space()}]`;
  if (value && typeof value === 'object') {
    return `{${space()}${Object.entries(value).map(([k, v]) => `${serialize(r, k)}${space()}:${space()}${serialize(r, v)}`).join(`${space()},${space()}`)}${space()}}`;
  }
  return JSON.stringify(value);
}

describe('parseLargeObject', () => {
  it('gives what JSON.parse gives for 3,000 random objects with every escape form', () => {
    const r = new R(7);
    for (let i = 0; i < 3000; i++) {
      const obj = Object.fromEntries(Array.from({ length: r.below(6) }, () => [randomString(r), randomValue(r, 0)]));
      const text = serialize(r, obj);
      const utf8 = new Map<string, Uint8Array>();
      const want = JSON.parse(text) as Record<string, unknown>;
      expect(parseLargeObject(Buffer.from(text), utf8), text).toEqual(want);
      // Every string value's bytes are its UTF-8 encoding (what the shard writer copies).
      for (const [key, value] of Object.entries(want)) {
        if (typeof value === 'string') expect(Buffer.from(utf8.get(key) ?? []).equals(Buffer.from(value)), text).toBe(true);
        else expect(utf8.has(key), text).toBe(false);
      }
    }
  });

  it('keeps key order, the last of duplicate keys and "__proto__" as an own property', () => {
    const text = '{"b":1,"a":"x","b":"y","__proto__":{"polluted":true},"2":0}';
    const utf8 = new Map<string, Uint8Array>();
    const got = parseLargeObject(Buffer.from(text), utf8) as Record<string, unknown>;
    expect(Buffer.from(utf8.get('b') ?? []).toString()).toBe('y');
    const want = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(got)).toEqual(Object.keys(want));
    expect(got).toEqual(want);
    expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
    expect(Object.hasOwn(got, '__proto__')).toBe(true);
  });

  it('turns a lone surrogate escape into U+FFFD, the character its UTF-8 is', () => {
    expect(parseLargeObject(Buffer.from('{"t":"a\\ud800b\\udc00"}'))).toEqual({ t: 'a\ufffdb\ufffd' });
  });

  it('gives null for what is not one valid JSON object, and leaves the bytes as they were', () => {
    const bad = [
      '[1,2]', '"text"', 'null', '{"a":1,}', '{"a" 1}', '{"a":1 "b":2}', '{"a":"x\ty"}', '{"a":"\\x"}', '{"a":"\\u12g4"}',
      '{"a":tru}', '{"a":[1,2}', '{"a":"unterminated}', '{a:1}', '{"a":1}}', '{"a":"b"} x', '{"k":"\\n", "a":"\u0001"}', '',
    ];
    for (const text of bad) {
      const bytes = Buffer.from(text);
      expect(parseLargeObject(bytes), text).toBeNull();
      expect(bytes.toString(), text).toBe(text);
      expect(() => JSON.parse(text) as unknown).toSatisfy((parse: () => unknown) => {
        try {
          const v = parse();
          return v === null || typeof v !== 'object' || Array.isArray(v);
        } catch {
          return true;
        }
      });
    }
  });
});
