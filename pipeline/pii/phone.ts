/**
 * Phone numbers. With a country code, libphonenumber says whether the number is possible.
 * Without one, a number counts when libphonenumber finds it valid in a country we cover and it
 * is written in groups of 10 digits or more, or when the text labels it a phone number (a
 * context word before it or right after it) and it has the shape of a national number. Dates,
 * years, versions, decimals, quantities and IDs that look the same are left alone.
 */
import type { CountryCode } from 'libphonenumber-js/max';
import { lazyPackage } from '../core/lazy-package.js';

// The full metadata (~150 kB of JSON): loaded when a text first holds a phone candidate.
const phoneNumbers = lazyPackage<typeof import('libphonenumber-js/max')>('libphonenumber-js/max');

/** Countries whose national formats are tried for numbers written without a country code. */
const PHONE_COUNTRIES: CountryCode[] = ['US', 'GB', 'DE', 'FR', 'IT', 'ES', 'NL', 'BE', 'SE', 'AU', 'CA', 'IN', 'BR', 'CH', 'AT', 'PL', 'IE', 'IL'];

/** Words that name a phone or what one does with one, and phrases that name one's number (English, French, German, Spanish, Portuguese, Italian, Dutch, Nordic). */
const PHONE_WORDS = [
  '(?:my|your|our|his|her|their) (?:number|no)', 'reach (?:me|us|him|her|them)', '(?:home|work|office) ?:', 'ph', 'mob',
  'phones?', 'tel', 'tele?phon(?:e|es|ed)', 'mobiles?', 'cell(?:phone)?s?', 'fax(?:es)?', 'desk', 'landlines?', 'hotline', 'helpline', 'voicemail', 'whats ?app', 'sms',
  'contact(?:o|s)?', 'kontakt', 'call(?:s|ed|ing)?', 'ring(?:ing)?', 'dial(?:l?ed|l?ing)?', 'texts?', 'texting', 'messages?', 'messaging', 'answer(?:s|ed|ing)?',
  't[ée]l', 't[ée]l[ée]phone', 'portable', 'appel(?:ez|er|le)?', 'joindre',
  'telefon(?:nummer)?', 'handy', 'mobil(?:nummer|telefon)?', 'rufnummer', 'anruf(?:en)?', 'erreichbar',
  'tel[ée]fono', 'telefone', 'm[óo]vil', 'celular', 'llam(?:e|ar|ada|enos)', 'lig(?:ue|ar)', 'cellulare', 'chiam(?:a|are|ate)',
  'telefoon', 'mobiel', 'bel(?:len)?',
];
/** Words that often introduce a phone number but also other numbers (a count, a population, an address). */
const WEAK_WORDS = ['numbers?', 'no', 'nr', 'num', 'nummer', 'num[ée]ro', 'n[uú]mero', 'reach', 'registered', 'office', 'home', 'work'];
/** Words that make the number that follows an identifier, a code or an amount, whatever else is said before. */
const ID_WORDS = [
  'order', 'account', 'acct', 'invoice', 'ticket', 'tracking', 'reference', 'ref', 'serial', 'policy', 'case', 'customer', 'client', 'member(?:ship)?',
  'booking', 'confirmation', 'transaction', 'id', 'card', 'passport', 'licen[cs]e', 'vat', 'tax', 'isbn', 'issn', 'model', 'part', 'item', 'article',
  'batch', 'lot', 'registration', 'routing', 'sort', 'iban', 'bic', 'swift', 'pin', 'code', 'zip', 'post(?:al)?code', 'population', 'page', 'pages',
  'patent', 'claim', 'contract', 'student', 'employee', 'badge', 'version', 'build', 'isin', 'ean', 'upc', 'sku',
  'commande', 'facture', 'compte', 'dossier', 'r[ée]f[ée]rence', 'bestellung', 'rechnung', 'konto', 'kunden', 'pedido', 'factura', 'cuenta', 'referencia',
];
const LABEL = new RegExp(String.raw`(?<!\p{L})(?:(?<phone>${PHONE_WORDS.join('|')})|(?<weak>${WEAK_WORDS.join('|')})|(?<id>${ID_WORDS.join('|')}))(?!\p{L})`, 'giu');
/** Words right after a number that label it a phone number ("28-64-66-98 office"). */
const LABEL_AFTER = /^\W{0,3}(?:office|fax|mobile|cell|home|work|tel|phone|desk)\b/i;
/** An area code or a country code written apart ("Tel.: 06181 - 944 00 88", "(+48) 22 525 80 00"), or the numbers before in a list ("624-6456; 225-8452"). */
const NUMBER_PARTS = /[\d\s()+/.;-]*$/;
/** At most this many words between a label and its number ("call me on", "my phone number is"). */
const MAX_WORDS_BETWEEN = 3;

export type PhoneContext = 'phone' | 'weak' | 'id' | undefined;

/**
 * What the text around a number says it is. Before it, only the words after the last digit
 * count (a label before another number belongs to that one, unless the two are parts or items of
 * one phone number or list of them), and only labels with at most a few
 * words between them and the number; of those, the nearest phone or identifier word decides,
 * else a weak word makes the number a likely phone number.
 */
export function phoneContext(before: string, after: string): PhoneContext {
  if (LABEL_AFTER.test(after)) return 'phone';
  const head = before.replace(NUMBER_PARTS, '');
  const tail = head.slice(head.search(/\D*$/));
  let found: PhoneContext;
  LABEL.lastIndex = 0;
  for (let m = LABEL.exec(tail); m !== null; m = LABEL.exec(tail)) {
    const between = tail.slice(m.index + m[0].length).match(/\p{L}+/gu)?.length ?? 0;
    if (between > MAX_WORDS_BETWEEN) continue;
    const g = m.groups as Record<string, string | undefined>;
    if (g.phone) found = 'phone';
    else if (g.id) found = 'id';
    else found ??= 'weak';
  }
  return found;
}

const DATE_LIKE = /^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|(?:19|20)\d\d \d{1,2} \d{1,2}|\d{1,2} \d{1,2} (?:19|20)\d\d)$/;
/** An amount: a currency or a unit right after the number, or a currency sign right before it. */
const UNIT_AFTER = /^\s?(?:[%€$£¥‰]|(?:eur|usd|gbp|chf|jpy|sek|nok|dkk|dollars?|euros?|pounds?|km|kg|mi|miles|m²|km²|people|persons|inhabitants|residents|users|visitors|copies|units|tons?|tonnes?)\b)/i;
const CURRENCY_BEFORE = /[€$£¥]\s?$/;

/** The groups of digits of a candidate, the extension left out. */
const digitGroups = (number: string) => number.match(/\d+/g) ?? [];

/** Runs of years, or of small numbers (calendars, tables, counting), are not phone numbers. */
function yearsOrSmallNumbers(groups: string[], context: PhoneContext): boolean {
  if (groups.length > 1 && groups.every((g) => /^(?:19|20)\d\d$/.test(g))) return true;
  if (groups.length <= 2 || !groups.every((g) => g.length <= 2)) return false;
  if (groups.every((g, i) => i === 0 || Number(g) === Number(groups[i - 1]) + 1)) return true;
  // Labelled pairs of digits are a national number ("71-33-52-22", "01 42 68 53 00"); unlabelled, 10 digits at least.
  if (context === 'phone' || context === 'weak') return groups.length < 4 || groups.length > 5;
  return groups.reduce((n, g) => n + g.length, 0) < 10 || groups.length > 5;
}

/** 1 to 3 digits, then groups of exactly 3 with no leading 0: how counts and amounts are written ("12 500 000"). */
const thousands = (number: string) => /^[1-9]\d{0,2}(?:([ ,.])\d{3})(?:\1\d{3})*$/.test(number);

/**
 * The shape of a national number: 8 to 11 digits in at most 5 groups of 2 to 5 digits (the first
 * may be an area code in parentheses), or one run of them, written with one kind of separator.
 */
function nationalShape(number: string, groups: string[]): boolean {
  const digits = groups.reduce((n, g) => n + g.length, 0);
  if (digits < 7 || digits > 11 || groups.length > 5) return false;
  if (groups.length === 1) return true;
  if (groups.some((g) => g.length < 2)) return false;
  const separators = new Set(number.replace(/^\(\d+\)/, '').replace(/[\d]/g, ''));
  return separators.size === 1;
}

export function phoneValid(candidate: string, before: string, after: string): boolean {
  const number = candidate.replace(/ ?(?:x|ext\.?) ?\d+$/, '');
  const groups = digitGroups(number);
  const digits = groups.join('');
  if (digits.length < 7 || digits.length > 15) return false;
  if (DATE_LIKE.test(number) || /\d{4}-\d{2}-\d{2}/.test(number)) return false;
  const international = number.startsWith('+');
  const context = phoneContext(before, after);
  if (yearsOrSmallNumbers(international ? groups.slice(1) : groups, context)) return false;
  if (UNIT_AFTER.test(after) || CURRENCY_BEFORE.test(before)) return false;
  if (international) {
    const p = phoneNumbers().parsePhoneNumberFromString(number);
    return p !== undefined && p.isPossible();
  }
  if (context === 'id') return false;
  // Counts and amounts in thousands ("12 500 000"), and decimals ("48.858370"), unless the text says phone.
  if (context !== 'phone' && thousands(number)) return false;
  if (/^\d+[.,]\d+$/.test(number)) return false;
  const grouped = /[ .()-]/.test(number);
  const labelled = context !== undefined;
  // A bare run of digits (an ID, a timestamp, a count) is a phone number only when the text says so,
  // and so is a short national number (a house number, a postcode, a licence number look alike).
  if ((!grouped || digits.length < 10) && !labelled) return false;
  // Dotted groups are versions and decimals more often than phone numbers; phones are not dotted in 1-digit groups.
  if (/^\d+(?:\.\d+)+$/.test(number) && (groups.some((g) => g.length < 2) || (!labelled && digits.length < 10))) return false;
  // A single trailing digit is a check digit (ISBN, account numbers), a leading year a reference number.
  if (groups.length > 1 && groups[groups.length - 1].length === 1) return false;
  if (!labelled && /^(?:19|20)\d\d[ .-]/.test(number)) return false;
  if (labelled && nationalShape(number, groups)) return true;
  for (const country of PHONE_COUNTRIES) {
    const p = phoneNumbers().parsePhoneNumberFromString(number, country);
    if (p && (p.isValid() || ((labelled || number.includes('(')) && p.isPossible()))) return true;
  }
  return false;
}

/**
 * How much of the phone candidate text[start, end) is a phone number: all of it, or, when a
 * list of numbers after a phone word was read as one ("052 5552606 074-7111234"), the longest
 * leading part of at most 11 digits that is one; 0 when none is.
 */
export function phoneLength(text: string, start: number, end: number): number {
  const candidate = text.slice(start, end);
  const before = text.slice(Math.max(0, start - 40), start);
  if (phoneValid(candidate, before, text.slice(end, end + 12))) return candidate.length;
  if (candidate.length < 13 || candidate.startsWith('+') || (candidate.match(/\d/g)?.length ?? 0) <= 11 || phoneContext(before, '') !== 'phone') return 0;
  for (let i = candidate.lastIndexOf(' '); i > 0; i = candidate.lastIndexOf(' ', i - 1)) {
    const part = candidate.slice(0, i);
    if ((part.match(/\d/g)?.length ?? 0) <= 11 && phoneValid(part, before, text.slice(start + i, start + i + 12))) return i;
  }
  return 0;
}
