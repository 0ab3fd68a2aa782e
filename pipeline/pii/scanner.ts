/**
 * Personal data and secrets in text, found in one pass: a single regular expression with one
 * named alternative per kind proposes candidates left to right, and a validator per kind
 * confirms them (Luhn for cards, mod-97 for IBANs, address ranges for IPs, libphonenumber
 * for phone numbers, number-plan rules for SSNs). What a validator rejects is not PII.
 */
import { isIP } from 'node:net';
import { isReservedAddress } from '../core/addresses.js';
import { phoneLength, phoneValid } from './phone.js';

export type PiiType = 'email' | 'phone' | 'ip' | 'card' | 'iban' | 'ssn' | 'secret';
export const PII_TYPES: readonly PiiType[] = ['email', 'phone', 'ip', 'card', 'iban', 'ssn', 'secret'];

export interface PiiMatch {
  type: PiiType;
  start: number;
  end: number;
  /** For IPs: private, loopback, link-local or documentation ranges, which are not personal (as datatrove). */
  reserved?: boolean;
}

// One alternative per kind, most specific first: at a given position the first that matches wins.
const ALTERNATIVES = [
    String.raw`(?<pem>-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----[\s\S]{16,8192}?-----END (?:[A-Z]+ )*PRIVATE KEY-----)`,
    String.raw`(?<jwt>\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})`,
    String.raw`(?<token>\b(?:(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z2-7]{16}|gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{60,90}|xox[abposr]-[A-Za-z0-9-]{10,72}|sk_live_[A-Za-z0-9]{24,99}|AIza[A-Za-z0-9_-]{35})\b)`,
    String.raw`(?<email>\b[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}\b)`,
    String.raw`(?<iban>\b[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,3})?\b)`,
    String.raw`(?<ipv6>(?<![\w:.])(?:[0-9A-Fa-f]{1,4}:){1,7}(?::|(?::[0-9A-Fa-f]{1,4}){1,7}|[0-9A-Fa-f]{1,4})(?![\w:.]))`,
    String.raw`(?<ipv4>(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d))`,
    String.raw`(?<ssn>\b\d{3}-\d{2}-\d{4}\b)`,
    String.raw`(?<card>(?<![\w.,-])\d{4}(?:[ -]?\d{3,6}){2,4}(?![\w-]|[.,]\d))`,
    String.raw`(?<phone>(?<![\w+./-])(?<!\d,)(?:\+\d{7,15}|\d{10,11}|(?:\+\d{1,3}[ .-]?(?:\(0\)[ .-]?)?)?(?:\(\d{1,5}\)[ .-]?)?\d{1,5}(?:[ .-]\d{1,8}){0,5})(?: ?(?:x|ext\.?) ?\d{1,6})?(?![\w]|[.,/-]\d|:\d))`,
    String.raw`(?<digits9>\b\d{9}\b)`,
];
const SCANNER = new RegExp(ALTERNATIVES.join('|'), 'g');
/**
 * The same scanner without the e-mail alternative, for text without "@" (most text): the
 * e-mail pattern reads every word up to its end before failing, a third of the scan's time.
 */
const SCANNER_NO_AT = new RegExp(ALTERNATIVES.filter((a) => !a.startsWith('(?<email>')).join('|'), 'g');

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) d *= 2;
    sum += d > 9 ? d - 9 : d;
  }
  return sum % 10 === 0;
}

/**
 * Card numbers start with an issuer digit from 1 to 6 (airline/UATP, Visa, Mastercard, Amex,
 * JCB, Diners, Discover, Maestro, UnionPay, ...) and have 12 to 19 digits; with the Luhn
 * check, a random digit run passes one time in 60.
 */
function cardNetwork(d: string): boolean {
  return d[0] >= '1' && d[0] <= '6' && d.length >= 12 && d.length <= 19;
}

const IBAN_LENGTHS: Record<string, number> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DK: 18,
  DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22,
  IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LI: 21, LT: 20, LU: 20, LV: 21, MC: 27, MD: 24, ME: 22, MK: 19,
  MR: 27, MT: 31, MU: 30, NL: 18, NO: 15, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, SA: 24, SE: 24, SI: 19, SK: 24,
  SM: 27, TN: 24, TR: 26, UA: 29, VG: 24, XK: 20,
};

function ibanValid(raw: string): boolean {
  const s = raw.replace(/ /g, '').toUpperCase();
  if (IBAN_LENGTHS[s.slice(0, 2)] !== s.length) return false;
  let rem = 0;
  for (const ch of `${s.slice(4)}${s.slice(0, 4)}`) {
    const v = ch >= 'A' ? ch.charCodeAt(0) - 55 : ch.charCodeAt(0) - 48;
    rem = v > 9 ? (rem * 100 + v) % 97 : (rem * 10 + v) % 97;
  }
  return rem === 1;
}

function ssnValid(area: number, group: number, serial: number): boolean {
  return area > 0 && area !== 666 && area < 900 && group > 0 && serial > 0;
}

const SSN_CONTEXT = /(?:ssn|ssid|social security|soc\.? sec)\D{0,30}$/i;

export function findPii(text: string): PiiMatch[] {
  const found: PiiMatch[] = [];
  const scanner = text.includes('@') ? SCANNER : SCANNER_NO_AT;
  scanner.lastIndex = 0;
  for (let m = scanner.exec(text); m !== null; m = scanner.exec(text)) {
    const g = m.groups as Record<string, string | undefined>;
    const start = m.index;
    const end = start + m[0].length;
    const add = (type: PiiType, extra: Partial<PiiMatch> = {}) => found.push({ type, start, end, ...extra });
    if (g.pem || g.jwt || g.token) add('secret');
    else if (g.email) add('email');
    else if (g.iban) {
      if (ibanValid(g.iban)) add('iban');
    } else if (g.ipv6) {
      // At least three groups written out: "1834::" after a date is punctuation, not an address.
      if (isIP(g.ipv6) === 6 && g.ipv6.split(':').filter(Boolean).length >= 3) add('ip', { reserved: isReservedAddress(g.ipv6) });
    } else if (g.ipv4) {
      const before = text.slice(Math.max(0, start - 12), start);
      // "version 1.2.3.4", "v1.0.0.1": software versions, not addresses.
      if (isIP(g.ipv4) === 4 && !/\b(?:v|version|ver\.?)\s*$/i.test(before)) add('ip', { reserved: isReservedAddress(g.ipv4) });
    } else if (g.ssn) {
      const [a, b, c] = g.ssn.split('-').map(Number);
      if (ssnValid(a, b, c)) add('ssn');
    } else if (g.card) {
      const digits = g.card.replace(/\D/g, '');
      const separators = new Set(g.card.replace(/\d/g, ''));
      const years = (g.card.match(/\d+/g) ?? []).every((x) => /^(?:19|20)\d\d$/.test(x));
      if (!years && digits.length >= 12 && digits.length <= 19 && separators.size <= 1 && luhn(digits) && cardNetwork(digits)) add('card');
      else if (phoneValid(g.card, text.slice(Math.max(0, start - 40), start), text.slice(end, end + 12))) add('phone');
    } else if (g.phone) {
      const length = phoneLength(text, start, end);
      if (length > 0) found.push({ type: 'phone', start, end: start + length });
      // A list of numbers read as one: what follows the first is scanned again.
      if (length > 0 && length < end - start) scanner.lastIndex = start + length;
    } else if (g.digits9) {
      const before = text.slice(Math.max(0, start - 40), start);
      if (SSN_CONTEXT.test(before) && ssnValid(Number(g.digits9.slice(0, 3)), Number(g.digits9.slice(3, 5)), Number(g.digits9.slice(5)))) add('ssn');
      else if (phoneValid(g.digits9, before, text.slice(end, end + 12))) add('phone');
    }
  }
  return found;
}
