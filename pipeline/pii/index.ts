/**
 * `refinery pii`: personal data and unsafe content. Finds e-mail addresses, public IP
 * addresses, phone numbers, payment cards, IBANs, US SSNs and secrets in one pass and
 * replaces them (per type: placeholder, mask, salted hash, keep, or exclude the document);
 * counts them per type; excludes documents whose share of LDNOOBW words, or whose URL,
 * marks them unsafe.
 */
import * as z from 'zod';
import type { Doc } from '../core/schema.js';
import { defineStage, drop, type Step, needsText } from '../core/stage.js';
import { UrlBlocklist } from '../text/url-blocklist.js';
import { redact, type PiiAction } from './redact.js';
import { PII_TYPES, findPii, type PiiType } from './scanner.js';
import { bannedUrlWords, unsafeScore, urlWords } from './unsafe.js';

const action = (type: string, fallback: PiiAction) =>
  z.enum(['placeholder', 'mask', 'hash', 'keep', 'exclude']).default(fallback).describe(`what to do with ${type}: placeholder, mask, hash, keep, or exclude the document`);

export const piiOptions = z
  .object({
    email: action('e-mail addresses', 'placeholder'),
    phone: action('phone numbers', 'placeholder'),
    ip: action('public IP addresses', 'placeholder'),
    card: action('payment card numbers', 'placeholder'),
    iban: action('IBANs', 'placeholder'),
    ssn: action('US social security numbers', 'placeholder'),
    secret: action('secrets (cloud keys, tokens, JWTs, private keys)', 'placeholder'),
    reserved_ips: z.enum(['keep', 'replace']).default('keep').describe('private, loopback and documentation IP addresses: keep them (as datatrove) or treat them like public ones'),
    hash_salt: z.string().default('refinery').describe('salt of the hash action (set your own: the same salt gives the same pseudonyms)'),
    unsafe_words: z.boolean().default(true).describe('exclude documents by their share of LDNOOBW words (in the document\'s language)'),
    unsafe_share: z.number().min(0).max(1).default(0.03).describe('exclude when at least this share of the words is flagged...'),
    unsafe_min_hits: z.number().int().min(1).default(5).describe('...and at least this many words are'),
    url_words: z.boolean().default(true).describe('exclude documents whose URL contains a banned word'),
    url_banned_words: z.string().optional().describe('file of banned URL words, one per line (default: the English LDNOOBW words)'),
    url_blocklist_domains: z.string().optional().describe('file of blocked domains, one per line (subdomains too)'),
  })
  .strict();
type PiiConfig = z.infer<typeof piiOptions>;

export const PII_COLUMNS = PII_TYPES.map((t) => ({ name: `pii_${t}_count`, type: 'int32' as const }));

function steps(config: PiiConfig): Step[] {
  const out: Step[] = [];
  const domains = new UrlBlocklist(config.url_blocklist_domains);
  const banned = config.url_words ? bannedUrlWords(config.url_banned_words) : new Set<string>();
  if (!domains.empty || banned.size > 0) {
    out.push({
      name: 'unsafe-url',
      kind: 'filter',
      apply: (doc) => {
        if (typeof doc.url !== 'string') return undefined;
        const hit = domains.match(doc.url) ?? urlWords(doc.url).find((w) => banned.has(w));
        return hit ? drop('unsafe-url', hit.startsWith('domain') ? hit : `URL word "${hit}"`) : undefined;
      },
    });
  }
  if (config.unsafe_words) {
    out.push({
      name: 'unsafe-words',
      kind: 'filter',
      apply: (doc) => {
        const score = unsafeScore(typeof doc.text === 'string' ? doc.text : '', typeof doc.lang === 'string' ? doc.lang : 'en');
        return score.hits >= config.unsafe_min_hits && score.share >= config.unsafe_share
          ? drop('unsafe-words', `${score.hits} of ${score.words} words flagged (${(100 * score.share).toFixed(1)}%)`)
          : undefined;
      },
    });
  }
  const actions = Object.fromEntries(PII_TYPES.map((t) => [t, config[t]])) as Record<PiiType, PiiAction>;
  const options = { salt: config.hash_salt, keepReservedIps: config.reserved_ips === 'keep' };
  out.push({
    name: 'pii',
    kind: 'transform',
    adds: PII_COLUMNS,
    apply: (doc: Doc) => {
      const text = typeof doc.text === 'string' ? doc.text : '';
      const r = redact(text, findPii(text), actions, options);
      doc.text = r.text;
      if (typeof doc.title === 'string') doc.title = redact(doc.title, findPii(doc.title), actions, options).text;
      for (const t of PII_TYPES) doc[`pii_${t}_count`] = r.counts[t];
      if (r.excluding.length > 0) return drop('pii', r.excluding.map((t) => `${t} ${r.counts[t]}`).join(', '));
      return undefined;
    },
  });
  return out;
}

export const piiStage = defineStage({
  name: 'pii',
  summary: 'replace personal data and secrets; exclude unsafe documents',
  needs: needsText,
  description:
    'One pass finds e-mail addresses, IPv4/IPv6 addresses (private, loopback and documentation ranges are left by ' +
    'default), phone numbers (libphonenumber), Luhn-checked card numbers, mod-97-checked IBANs, US SSNs, and secrets ' +
    '(cloud access keys, GitHub/Slack tokens, JWTs, PEM private keys). Each type is replaced by a typed placeholder ' +
    '([EMAIL], ...) unless its flag says mask, hash, keep or exclude; counts go to pii_<type>_count. Documents whose ' +
    'share of LDNOOBW words (for their language) or whose URL marks them unsafe are excluded with the reason.',
  options: piiOptions,
  steps: (config) => steps(config),
});
