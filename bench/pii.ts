/**
 * Bench `pii`: MB/s per core of the PII scan and replacement on web text, against running
 * one regular expression per type (the design the one-pass scanner replaces), in the same run.
 *
 *   npm run bench -- pii [--size 200MB]
 *
 * Text: the sample web's gold text (planted personal data included), plus DCLM's extracted web
 * documents and WikiText from ../shared/data when present; repeated to --size.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { byteSize } from '../pipeline/core/config.js';
import { redact } from '../pipeline/pii/redact.js';
import { PII_TYPES, findPii, type PiiType } from '../pipeline/pii/scanner.js';
import { unsafeScore } from '../pipeline/pii/unsafe.js';
import { sharedDataDir } from './extraction-data.js';
import { arg, isolated, ratio, report } from './harness.js';
import { sampleWebTexts } from './sample-web-texts.js';

function corpus(): string[] {
  const docs = sampleWebTexts();
  try {
    const root = sharedDataDir();
    for (const f of ['agreement_data.jsonl', 'majority_data.jsonl']) {
      for (const line of readFileSync(join(root, 'quality-dclm-human-labels', f), 'utf8').trim().split('\n')) docs.push((JSON.parse(line) as { text: string }).text);
    }
    const wiki = join(root, 'hq-text-wikitext2', 'wikitext-2.valid.txt');
    if (existsSync(wiki)) docs.push(...readFileSync(wiki, 'utf8').split(/\n(?= = [^=])/));
  } catch {
    // without ../shared/data the sample web alone
  }
  return docs;
}

/** The design the combined scanner replaces: one full pass over the text per type. */
const PER_TYPE: Record<PiiType, RegExp> = {
  email: /\b[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,24}\b/g,
  phone: /(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{1,5}(?:[ .-]\d{1,8}){1,5}/g,
  ip: /\b(?:\d{1,3}\.){3}\d{1,3}\b|(?:[0-9A-Fa-f]{1,4}:){2,7}[0-9A-Fa-f]{1,4}/g,
  card: /\b\d{4}(?:[ -]?\d{3,6}){2,4}\b/g,
  iban: /\b[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}\b/g,
  ssn: /\b\d{3}-\d{2}-\d{4}\b/g,
  secret: /\b(?:AKIA[A-Z2-7]{16}|gh[pousr]_[A-Za-z0-9]{36})\b|eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{10,}|-----BEGIN [A-Z ]*PRIVATE KEY-----/g,
};

export async function main(args: string[]): Promise<void> {
  const target = byteSize().parse(arg(args, 'size', '200MB'));
  const base = corpus();
  const baseBytes = base.reduce((n, d) => n + Buffer.byteLength(d), 0);
  const rounds = Math.ceil(target / baseBytes);
  const bytes = rounds * baseBytes;
  const docs = rounds * base.length;
  if (arg(args, 'phase', '') === '') console.log(`pii: ${docs} documents, ${(bytes / 1e6).toFixed(0)} MB of text (${base.length} distinct), one core each`);
  const actions = Object.fromEntries(PII_TYPES.map((t) => [t, 'placeholder'])) as Record<PiiType, 'placeholder'>;
  const results = await isolated('pii', args, {
    'one regex per type (reference, find only)': () => {
      let n = 0;
      for (let r = 0; r < rounds; r++) for (const d of base) for (const t of PII_TYPES) n += (d.match(PER_TYPE[t]) ?? []).length;
      return { bytes, docs: n > -1 ? docs : 0 };
    },
    'refinery findPii (one pass, validated)': () => {
      let n = 0;
      for (let r = 0; r < rounds; r++) for (const d of base) n += findPii(d).length;
      return { bytes, docs: n > -1 ? docs : 0 };
    },
    'refinery findPii + redact + unsafe words': () => {
      for (let r = 0; r < rounds; r++) {
        for (const d of base) {
          redact(d, findPii(d), actions, { salt: 's', keepReservedIps: true });
          unsafeScore(d, 'en');
        }
      }
      return { bytes, docs };
    },
  });
  if (!results) return;
  report(results);
  console.log(`ratio (one-pass scanner / one regex per type): ${ratio(results[1], results[0])}`);
}
