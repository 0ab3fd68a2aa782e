/** `refinery quality explain`: every rule's value, threshold and verdict for one text. */
import { Classifier } from '../classify/fasttext.js';
import { judge, type RuleCheck } from './heuristics.js';
import { scoreColumn, type QualityConfig } from './index.js';
import { settingsFor, type LanguageSettings } from './languages.js';

export interface Explanation {
  /** The language the text was judged as, and whose settings were used. */
  language: { lang: string | null; entry: string; label: string };
  checks: RuleCheck[];
  /** The first failed rule: the reason the filter would exclude the text. */
  excludedBy: RuleCheck | null;
  linesRemoved: Record<string, number>;
  /** The text after C4's line clean-up. */
  text: string;
  classifier: { column: string; score: number; min: number | null; pass: boolean } | null;
}

/** `lang`: the text's language (the lang column, --lang, or language ID); null judges it as English. */
export async function explain(text: string, c: QualityConfig, lang: string | null = null): Promise<Explanation> {
  const settings: LanguageSettings = settingsFor(lang, c);
  const verdict = judge(text, settings.config, true, settings.lang);
  let classifier: Explanation['classifier'] = null;
  if (c.classifier) {
    const model = await Classifier.open(c.classifier, c.label);
    try {
      const score = await model.score(verdict.text);
      classifier = { column: scoreColumn(c), score, min: c.min_score ?? null, pass: c.min_score === undefined || score >= c.min_score };
    } finally {
      model.close();
    }
  }
  return { language: { lang: settings.lang, entry: settings.entry, label: settings.label }, checks: verdict.checks, excludedBy: verdict.failed, linesRemoved: verdict.linesRemoved, text: verdict.text, classifier };
}

export function explanationTable(e: Explanation): string {
  const rows = [['family', 'rule', 'value', 'threshold', 'verdict']];
  const header = `language: ${e.language.label}`;
  for (const x of e.checks) rows.push([x.family, x.rule, Number.isInteger(x.value) ? String(x.value) : x.value.toFixed(4), x.limit, x.pass ? 'pass' : 'FAIL']);
  if (e.classifier) rows.push(['classifier', e.classifier.column, e.classifier.score.toFixed(4), e.classifier.min === null ? '(none)' : `>= ${e.classifier.min}`, e.classifier.pass ? 'pass' : 'FAIL']);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) => r.map((cell, i) => (i === 2 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd());
  const removed = Object.entries(e.linesRemoved);
  if (removed.length) lines.push(`c4 removed lines: ${removed.map(([why, n]) => `${why} ${n}`).join(', ')}`);
  const first = e.excludedBy;
  const verdict = first
    ? `excluded by ${first.family}: ${first.rule} (${Number.isInteger(first.value) ? first.value : first.value.toFixed(4)}, needs ${first.limit})`
    : e.classifier && !e.classifier.pass
      ? `excluded by the classifier: low-score`
      : 'kept';
  lines.push(`verdict: ${verdict}`);
  return [header, ...lines].join('\n');
}
