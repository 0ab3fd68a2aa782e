/**
 * Replacing what the scanner found. Per type: a typed placeholder ([EMAIL]), a mask of the
 * same length, a salted hash (the same value always gets the same pseudonym, the value
 * cannot be read back), left as is (keep), or the whole document excluded. Original values
 * are never written anywhere: an excluded document is redacted before it is excluded.
 */
import { createHash } from 'node:crypto';
import type { PiiMatch, PiiType } from './scanner.js';

export type PiiAction = 'placeholder' | 'mask' | 'hash' | 'keep' | 'exclude';

export const PLACEHOLDERS: Record<PiiType, string> = {
  email: '[EMAIL]',
  phone: '[PHONE]',
  ip: '[IP]',
  card: '[CARD]',
  iban: '[IBAN]',
  ssn: '[SSN]',
  secret: '[SECRET]',
};

export interface Redaction {
  text: string;
  counts: Record<PiiType, number>;
  /** Types found whose action is "exclude". */
  excluding: PiiType[];
}

export function redact(text: string, matches: readonly PiiMatch[], actions: Record<PiiType, PiiAction>, o: { salt: string; keepReservedIps: boolean }): Redaction {
  const counts = { email: 0, phone: 0, ip: 0, card: 0, iban: 0, ssn: 0, secret: 0 } as Record<PiiType, number>;
  const excluding = new Set<PiiType>();
  let out = '';
  let last = 0;
  for (const m of matches) {
    if (m.type === 'ip' && m.reserved && o.keepReservedIps) continue;
    counts[m.type]++;
    const action = actions[m.type];
    if (action === 'keep') continue;
    if (action === 'exclude') excluding.add(m.type);
    const value = text.slice(m.start, m.end);
    let replacement: string;
    if (action === 'mask') replacement = value.replace(/[^\s\-.()/:@]/g, '*');
    else if (action === 'hash') replacement = `[${m.type.toUpperCase()}:${createHash('sha256').update(o.salt).update(value).digest('hex').slice(0, 12)}]`;
    else replacement = PLACEHOLDERS[m.type]; // placeholder, and what an excluded document keeps
    out += text.slice(last, m.start) + replacement;
    last = m.end;
  }
  return { text: last === 0 ? text : out + text.slice(last), counts, excluding: [...excluding] };
}
