/** The labelled PII sets in ../shared/data as (text, gold spans) pairs with our type names. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PiiType } from '../pipeline/pii/scanner.js';
import { sharedDataDir } from './extraction-data.js';

export interface GoldSpan {
  type: PiiType | string;
  start: number;
  end: number;
}

export interface LabelledText {
  set: string;
  text: string;
  spans: GoldSpan[];
  /** The types this set labels; detections of other types are not scored on it. Undefined: all. */
  labels?: readonly string[];
}

const PRESIDIO: Record<string, PiiType> = { EMAIL_ADDRESS: 'email', PHONE_NUMBER: 'phone', IP_ADDRESS: 'ip', CREDIT_CARD: 'card', IBAN_CODE: 'iban', US_SSN: 'ssn' };
const NEMO: Record<string, PiiType> = { email: 'email', phone_number: 'phone', ip_address: 'ip', credit_card_number: 'card', ssn: 'ssn' };

export function labelledPii(root = sharedDataDir()): LabelledText[] {
  const out: LabelledText[] = [];
  const presidio = JSON.parse(readFileSync(join(root, 'pii-presidio-research-synth', 'synth_dataset_v2.even.json'), 'utf8')) as {
    full_text: string;
    spans: { entity_type: string; start_position: number; end_position: number }[];
  }[];
  for (const item of presidio) {
    out.push({ set: 'presidio-research', text: item.full_text, spans: item.spans.map((s) => ({ type: PRESIDIO[s.entity_type] ?? s.entity_type, start: s.start_position, end: s.end_position })) });
  }
  // NeMo-Curator: inline tags; the text is the line without them.
  const nemoDir = join(root, 'pii-nemo-curator');
  for (const file of ['emails.txt', 'phone_numbers.txt', 'ip_address.txt', 'card_no.txt', 'ssn.txt', 'multiple.txt', 'address.txt', 'names.txt', 'birthdates.txt']) {
    for (const line of readFileSync(join(nemoDir, file), 'utf8').split('\n').filter((l) => l.trim())) {
      let text = '';
      const spans: GoldSpan[] = [];
      const re = /<(\w+)>([\s\S]*?)<\/\1>/g;
      let last = 0;
      for (let m = re.exec(line); m; m = re.exec(line)) {
        text += line.slice(last, m.index);
        spans.push({ type: NEMO[m[1]] ?? m[1], start: text.length, end: text.length + m[2].length });
        text += m[2];
        last = m.index + m[0].length;
      }
      text += line.slice(last);
      out.push({ set: 'nemo-curator', text, spans });
    }
  }
  // Presidio's context sentences: one entity of the named type per sentence (its span is found by shape).
  const blocks = readFileSync(join(root, 'pii-presidio-context', 'context_sentences_tests.even.txt'), 'utf8').split(/\n\s*\n/);
  for (const block of blocks) {
    const lines = block.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    if (lines.length !== 2 || !PRESIDIO[lines[0].trim()]) continue;
    const text = lines[1];
    const m = /[+(]?\d[\d\s().-]{5,}\d/.exec(text);
    if (!m) continue;
    out.push({ set: 'presidio-context', text, spans: [{ type: PRESIDIO[lines[0].trim()], start: m.index, end: m.index + m[0].length }] });
  }
  // Dolma: e-mail spans scored >= 0.5 by its tagger.
  const docs = readFileSync(join(root, 'pii-dolma-email-spans', 'documents.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; text: string });
  const attrs = new Map(
    readFileSync(join(root, 'pii-dolma-email-spans', 'attributes_pii.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; attributes: { pii?: { email?: [number, number, number][] } } })
      .map((a) => [a.id, a.attributes.pii?.email ?? []]),
  );
  for (const d of docs) {
    const spans = (attrs.get(d.id) ?? []).filter(([, , score]) => score >= 0.5).map(([start, end]) => ({ type: 'email', start, end }));
    out.push({ set: 'dolma', text: d.text, spans, labels: ['email'] });
  }
  return out;
}
