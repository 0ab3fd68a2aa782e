/**
 * Bench `pii-accuracy`: precision and recall per type over the labelled sets in ../shared/data
 * (presidio-research synthetic spans, NeMo-Curator tagged lines, presidio context sentences,
 * dolma e-mail spans).
 *
 *   npm run bench -- pii-accuracy [--misses]
 *
 * A gold span is found when a detection of the same type overlaps it; a detection is right
 * when it overlaps a gold span of its type. Reserved IP ranges count as detections here (they
 * are found, then left in the text by default, as datatrove does).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSampleWeb, type PageTruth } from '../datasets/sample-web/index.js';
import { PII_TYPES, findPii, type PiiType } from '../pipeline/pii/scanner.js';
import { labelledPii, type LabelledText } from './pii-data.js';

export interface TypeScore {
  type: PiiType;
  gold: number;
  found: number;
  detections: number;
  right: number;
  precision: number;
  recall: number;
}

const overlaps = (a: { start: number; end: number }, b: { start: number; end: number }) => a.start < b.end && b.start < a.end;

export function scorePii(show?: (line: string) => void): TypeScore[] {
  return scoreItems(labelledPii(), show);
}

function scoreItems(data: LabelledText[], show?: (line: string) => void): TypeScore[] {
  const scores = new Map(PII_TYPES.map((t) => [t, { type: t, gold: 0, found: 0, detections: 0, right: 0, precision: 0, recall: 0 }]));
  for (const item of data) {
    const detected = findPii(item.text);
    for (const g of item.spans) {
      const s = scores.get(g.type as PiiType);
      if (!s) continue;
      s.gold++;
      if (detected.some((d) => d.type === g.type && overlaps(d, g))) s.found++;
      else show?.(`missed ${g.type} [${item.set}]: ${JSON.stringify(item.text.slice(g.start, g.end))}`);
    }
    for (const d of detected) {
      if (item.labels && !item.labels.includes(d.type)) continue;
      const s = scores.get(d.type) as TypeScore;
      s.detections++;
      if (item.spans.some((g) => g.type === d.type && overlaps(d, g))) s.right++;
      else show?.(`false ${d.type} [${item.set}]: ${JSON.stringify(item.text.slice(d.start, d.end))} (gold there: ${item.spans.filter((g) => overlaps(d, g)).map((g) => g.type).join(',') || 'none'})`);
    }
  }
  for (const s of scores.values()) {
    s.precision = s.detections ? s.right / s.detections : 1;
    s.recall = s.gold ? s.found / s.gold : 1;
  }
  return [...scores.values()];
}

/** The sample web's planted values (all types, secrets included) against its gold text. */
export function scoreSampleWeb(pagesFile: string): TypeScore[] {
  const pages = readFileSync(pagesFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as PageTruth).filter((p) => p.text);
  const items = pages.map((p) => {
    const text = p.text as string;
    const spans = p.pii.flatMap((x) => {
      const out: { type: string; start: number; end: number }[] = [];
      for (let i = text.indexOf(x.value); i !== -1; i = text.indexOf(x.value, i + 1)) out.push({ type: PLANTED[x.type], start: i, end: i + x.value.length });
      return out;
    });
    return { set: 'sample-web', text, spans };
  });
  return scoreItems(items);
}

const PLANTED: Record<string, PiiType> = { email: 'email', phone: 'phone', ipv4: 'ip', ipv6: 'ip', credit_card: 'card', iban: 'iban', us_ssn: 'ssn', aws_access_key: 'secret', github_token: 'secret', jwt: 'secret', private_key: 'secret' };

function table(title: string, scores: TypeScore[]): void {
  console.log(title);
  console.log('  type     gold  found  recall  detections  right  precision');
  for (const s of scores) {
    console.log(`  ${s.type.padEnd(7)} ${String(s.gold).padStart(5)}  ${String(s.found).padStart(5)}  ${s.recall.toFixed(3).padStart(6)}  ${String(s.detections).padStart(10)}  ${String(s.right).padStart(5)}  ${s.precision.toFixed(3).padStart(9)}`);
  }
}

export async function main(args: string[]): Promise<void> {
  table('Labelled sets in ../shared/data (presidio-research, NeMo-Curator, presidio context, dolma e-mails)', scorePii(args.includes('--misses') ? (l) => console.log(l) : undefined));
  const web = mkdtempSync(join(tmpdir(), 'refinery-bench-pii-'));
  try {
    buildSampleWeb({ out: web, pages: 2000, seed: 1 });
    table('Sample web, 2,000 pages, seed 1 (planted values in the gold text)', scoreSampleWeb(join(web, 'pages.jsonl')));
  } finally {
    rmSync(web, { recursive: true, force: true });
  }
}
