/**
 * Bench `quality-accuracy`: how well quality signals agree with human judgments, on
 * ../shared/data/quality-dclm-human-labels (Common Crawl documents labelled useful for
 * pre-training or not, DCLM's annotation).
 *
 *   A. a fastText classifier trained on 60% of the labelled documents (fixed seeded split),
 *      scored on the other 40%: ROC AUC and accuracy;
 *   B. a classifier trained on curated text (../shared/data/hq-text-*: WikiText-2, Botchan)
 *      against web text crawled at random (the pages of the real WARC/ARC files in
 *      ../shared/data, through ingest and extract), scored on all labelled documents;
 *   C. the heuristic rules (Gopher, C4, FineWeb) as a yes/no judge on the same documents.
 *
 *   npm run bench -- quality-accuracy
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Random } from '../pipeline/core/random.js';
import { Classifier } from '../pipeline/classify/fasttext.js';
import { heuristicOptions, judge } from '../pipeline/quality/heuristics.js';
import { accuracy, rocAuc } from '../pipeline/classify/metrics.js';
import { trainClassifier, trainOptions, type TrainConfig } from '../pipeline/quality/train.js';
import { sharedDataDir } from './extraction-data.js';

interface Labelled {
  text: string;
  label: number;
}

const cli = fileURLToPath(new URL('../pipeline/cli/main.js', import.meta.url));

async function evaluate(model: string, docs: readonly Labelled[]): Promise<{ auc: number; acc: number }> {
  const classifier = await Classifier.open(model);
  try {
    const scores: number[] = [];
    for (const d of docs) scores.push(await classifier.score(d.text));
    const labels = docs.map((d) => d.label);
    return { auc: rocAuc(scores, labels), acc: accuracy(scores, labels, 0.5) };
  } finally {
    classifier.close();
  }
}

const jsonl = (file: string, texts: readonly string[]) => writeFileSync(file, texts.map((text) => JSON.stringify({ text })).join('\n') + '\n');

export async function main(): Promise<void> {
  const root = sharedDataDir();
  const labelled = readFileSync(join(root, 'quality-dclm-human-labels', 'majority_data.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Labelled);
  const pos = labelled.filter((d) => d.label === 1).length;
  console.log(`quality-accuracy: ${labelled.length} DCLM-labelled documents (${pos} useful, ${labelled.length - pos} not)`);
  const scratch = mkdtempSync(join(tmpdir(), 'refinery-bench-quality-'));
  const base = (over: Partial<TrainConfig>) => trainOptions.parse({ positive: ['x'], negative: ['x'], output: join(scratch, 'm.bin'), holdout: 0, min_chars: 0, threads: 1, ...over });
  const rows = [['signal', 'trained on', 'evaluated on', 'ROC AUC', 'accuracy']];
  try {
    // A. Train on part of the human labels.
    const shuffled = new Random(20_240_601).shuffle([...labelled]);
    const cut = Math.round(shuffled.length * 0.6);
    const [train, test] = [shuffled.slice(0, cut), shuffled.slice(cut)];
    for (const normalization of ['tokens', 'dclm'] as const) {
      jsonl(join(scratch, 'a-pos.jsonl'), train.filter((d) => d.label === 1).map((d) => d.text));
      jsonl(join(scratch, 'a-neg.jsonl'), train.filter((d) => d.label === 0).map((d) => d.text));
      const model = join(scratch, `a-${normalization}.bin`);
      await trainClassifier(base({ positive: [join(scratch, 'a-pos.jsonl')], negative: [join(scratch, 'a-neg.jsonl')], output: model, normalization, balance: false, epoch: 25 }), () => {});
      const r = await evaluate(model, test);
      rows.push([`fastText (${normalization})`, `${train.length} labelled docs (60%)`, `${test.length} held out (40%)`, r.auc.toFixed(3), r.acc.toFixed(3)]);
    }

    // B. Curated text against random web text.
    const web = join(scratch, 'web');
    const archives = ['cc-warc-resiliparse/CC-MAIN-2020-34-excerpt.part1.warc.gz', 'warc-ia-2008-aut', 'warc-heritrix-ukwa', 'warc-wget-dolma', 'cc-arc-2008-copycat'].map((p) => join(root, p));
    for (const args of [['ingest', ...archives, '-o', join(web, 'raw')], ['extract', join(web, 'raw'), '-o', join(web, 'text'), '--min-text-chars', '200']]) {
      const r = spawnSync(process.execPath, [cli, ...args, '--progress', 'off'], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`refinery ${args[0]} failed: ${r.stderr}`);
    }
    const hq = [join(root, 'hq-text-wikitext2', 'wikitext-2.valid.txt'), join(root, 'hq-text-gutenberg-botchan', 'botchan.part1.txt')];
    for (const normalization of ['tokens', 'dclm'] as const) {
      const model = join(scratch, `b-${normalization}.bin`);
      const report = await trainClassifier(base({ positive: hq, negative: [join(web, 'text')], output: model, normalization, min_chars: 200, balance: false, epoch: 25 }), () => {});
      const r = await evaluate(model, labelled);
      rows.push([`fastText (${normalization})`, `curated ${report.train.hq} vs web ${report.train.cc}`, `all ${labelled.length}`, r.auc.toFixed(3), r.acc.toFixed(3)]);
    }

    // C. The rules as a judge: kept = useful.
    const rules = heuristicOptions.parse({});
    const verdicts = labelled.map((d) => (judge(d.text, rules).failed ? 0 : 1));
    const acc = verdicts.filter((v, i) => v === labelled[i].label).length / labelled.length;
    const keptOf = (label: number) => {
      const idx = labelled.map((d, i) => (d.label === label ? i : -1)).filter((i) => i >= 0);
      return `${idx.filter((i) => verdicts[i] === 1).length}/${idx.length}`;
    };
    rows.push(['heuristic rules (kept = useful)', '-', `all ${labelled.length}`, rocAuc(verdicts, labelled.map((d) => d.label)).toFixed(3), acc.toFixed(3)]);
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    for (const r of rows) console.log(r.map((cell, c) => (c >= 3 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  '));
    console.log(`the rules keep ${keptOf(1)} useful and ${keptOf(0)} not-useful documents`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
