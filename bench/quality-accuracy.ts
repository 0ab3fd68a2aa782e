/**
 * Bench `quality-accuracy`: how well quality signals agree with human judgments, on
 * ../shared/data/quality-dclm-human-labels (Common Crawl documents labelled useful for
 * pre-training or not, DCLM's annotation).
 *
 *   A. `quality train`'s default classifier, 5-fold cross-validated (stratified, seeded): ROC AUC
 *      and accuracy per fold and mean ± sd, with the fastText command-line tool (Debian's
 *      `fasttext supervised` / `predict-prob`) trained and scored on the same folds for reference,
 *      once with its own defaults and once with ours (skipped, with a note, without the binary);
 *   B. a classifier trained on curated text (../shared/data/hq-text-*: WikiText-2, Botchan)
 *      against web text crawled at random (the pages of the real WARC/ARC files in
 *      ../shared/data, through ingest and extract), scored on all labelled documents;
 *   C. the heuristic rules (Gopher, C4, FineWeb) as a yes/no judge on the same documents.
 *
 *   npm run bench -- quality-accuracy            A, B, C
 *   npm run bench -- quality-accuracy --grid     first the grid search the defaults were chosen by
 *                                                (5-fold CV of every setting; a few minutes)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Random } from '../pipeline/core/random.js';
import { Classifier } from '../pipeline/classify/fasttext.js';
import { heuristicOptions, judge } from '../pipeline/quality/heuristics.js';
import { accuracy, meanSd, rocAuc } from '../pipeline/classify/metrics.js';
import { QUALITY_DEFAULTS, crossValidate, cvFolds, sampleClasses, trainClassifier, trainOptions, type CvReport, type TrainConfig } from '../pipeline/quality/train.js';
import { sharedDataDir } from './extraction-data.js';

interface Labelled {
  text: string;
  label: number;
}

const cli = fileURLToPath(new URL('../pipeline/cli/main.js', import.meta.url));
const K = 5;
/** Fold seeds: the grid search and the table use the first; the others show how much the folds alone move the mean. */
const SEEDS = [1, 2, 3];

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
const pm = (m: { mean: number; sd: number }) => `${m.mean.toFixed(3)} ± ${m.sd.toFixed(3)}`;

function table(rows: string[][], numericFrom: number): void {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((cell, c) => (c >= numericFrom ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  '));
}

/** Run `jobs` at most `width` at a time (fastText trains on one thread and waits on I/O), results in order. */
async function pool<T>(jobs: readonly (() => Promise<T>)[], width: number): Promise<T[]> {
  const out = new Array<T>(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, worker));
  return out;
}

/**
 * The grid, in two stages (each setting 5-fold cross-validated on the same folds): first every
 * normalisation x epochs x learning rate with the other settings at STAGE1_FIXED, then, from the
 * pick of those (see below), one setting at a time: n-gram length, minimum count, dimension.
 */
const STAGE1 = { normalization: ['tokens', 'dclm'] as const, epoch: [5, 25, 50], lr: [0.1, 0.5, 1] };
const STAGE1_FIXED = { word_ngrams: 2, min_count: 2, dim: 32 };
const STAGE2 = { word_ngrams: [1, 2, 3], min_count: [1, 2, 3], dim: [16, 32, 100] };

type Setting = Pick<TrainConfig, 'normalization' | 'epoch' | 'lr' | 'word_ngrams' | 'min_count' | 'dim'>;
const settingName = (s: Setting) => `${s.normalization} epoch ${s.epoch} lr ${s.lr} ngrams ${s.word_ngrams} min_count ${s.min_count} dim ${s.dim}`;

function stage1(): Setting[] {
  const out: Setting[] = [];
  for (const normalization of STAGE1.normalization) for (const epoch of STAGE1.epoch) for (const lr of STAGE1.lr) out.push({ normalization, epoch, lr, ...STAGE1_FIXED });
  return out;
}

function stage2(best: Setting): Setting[] {
  const out: Setting[] = [];
  for (const [key, values] of Object.entries(STAGE2) as [keyof typeof STAGE2, number[]][]) for (const v of values) if (best[key] !== v) out.push({ ...best, [key]: v });
  return out;
}

/** fastText's command-line tool (Debian's `fasttext`) on the same folds: null when it is not installed. */
function fastTextCli(pos: readonly string[], neg: readonly string[], seed: number, args: readonly string[], scratch: string): CvReport | null {
  if (spawnSync('fasttext', [], { encoding: 'utf8' }).error) return null;
  const folds = cvFolds(pos.length, neg.length, K, seed);
  const results: CvReport['folds'] = [];
  for (let fold = 0; fold < K; fold++) {
    const part = (texts: readonly string[], of: number[], held: boolean) => texts.filter((_, i) => (of[i] === fold) === held);
    const train = new Random(seed + fold).shuffle([...part(pos, folds.pos, false).map((t) => `__label__hq ${t}`), ...part(neg, folds.neg, false).map((t) => `__label__cc ${t}`)]);
    const test = [...part(pos, folds.pos, true), ...part(neg, folds.neg, true)];
    const labels = test.map((_, i) => (i < part(pos, folds.pos, true).length ? 1 : 0));
    writeFileSync(join(scratch, 'cli-train.txt'), `${train.join('\n')}\n`);
    writeFileSync(join(scratch, 'cli-test.txt'), `${test.join('\n')}\n`);
    const model = join(scratch, 'cli-model');
    const t = spawnSync('fasttext', ['supervised', '-input', join(scratch, 'cli-train.txt'), '-output', model, '-thread', '1', '-verbose', '0', ...args], { encoding: 'utf8' });
    if (t.status !== 0) throw new Error(`fasttext supervised failed: ${t.stderr}`);
    const p = spawnSync('fasttext', ['predict-prob', `${model}.bin`, join(scratch, 'cli-test.txt'), '2'], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (p.status !== 0) throw new Error(`fasttext predict-prob failed: ${p.stderr}`);
    const scores = p.stdout.split('\n').slice(0, test.length).map((line) => {
      const m = /__label__hq (\S+)/.exec(line);
      return m ? Number(m[1]) : 0;
    });
    results.push({ fold: fold + 1, train: train.length, test: test.length, auc: rocAuc(scores, labels), accuracy: accuracy(scores, labels, 0.5) });
    rmSync(`${model}.bin`, { force: true });
    rmSync(`${model}.vec`, { force: true });
  }
  return { k: K, folds: results, auc: meanSd(results.map((r) => r.auc)), accuracy: meanSd(results.map((r) => r.accuracy)) };
}

export async function main(args: string[] = []): Promise<void> {
  const root = sharedDataDir();
  const labelled = readFileSync(join(root, 'quality-dclm-human-labels', 'majority_data.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Labelled);
  const pos = labelled.filter((d) => d.label === 1).length;
  console.log(`quality-accuracy: ${labelled.length} DCLM-labelled documents (${pos} useful, ${labelled.length - pos} not)`);
  const scratch = mkdtempSync(join(tmpdir(), 'refinery-bench-quality-'));
  const posFile = join(scratch, 'labelled-pos.jsonl');
  const negFile = join(scratch, 'labelled-neg.jsonl');
  jsonl(posFile, labelled.filter((d) => d.label === 1).map((d) => d.text));
  jsonl(negFile, labelled.filter((d) => d.label === 0).map((d) => d.text));
  // `quality train`'s defaults, as its command line gives them, on the labelled documents.
  const labelledConfig = (over: Partial<TrainConfig>) => trainOptions.parse({ positive: [posFile], negative: [negFile], output: join(scratch, 'm.bin'), ...over });
  const classes = (c: TrainConfig) => sampleClasses(c, new Random(c.seed));
  const base = (over: Partial<TrainConfig>) => trainOptions.parse({ positive: ['x'], negative: ['x'], output: join(scratch, 'm.bin'), holdout: 0, min_chars: 0, threads: 1, ...over });
  try {
    if (args.includes('--grid')) {
      const crossValidated = (settings: Setting[]) =>
        pool(
          settings.map((setting) => async () => {
            const c = labelledConfig({ ...setting, seed: SEEDS[0] });
            const { pos: p, neg: n } = await classes(c);
            const cv = await crossValidate(p, n, c, K);
            process.stderr.write(`  ${settingName(setting)}: ${pm(cv.auc)}\n`);
            return { s: setting, cv };
          }),
          3,
        );
      const first = await crossValidated(stage1());
      // The pick: within 0.01 of the best mean (far inside one standard error), the fewest epochs (cheaper training), then the highest mean.
      const top = Math.max(...first.map((r) => r.cv.auc.mean));
      const best = first.filter((r) => r.cv.auc.mean >= top - 0.01).sort((x, y) => x.s.epoch - y.s.epoch || y.cv.auc.mean - x.cv.auc.mean)[0].s;
      const results = [...first, ...(await crossValidated(stage2(best)))];
      console.log(`\ngrid search: ${results.length} settings, each ${K}-fold cross-validated on the same folds (seed ${SEEDS[0]}); other settings at their defaults`);
      const rows = [['stage', 'setting', 'ROC AUC', 'accuracy']];
      results.forEach((r, i) => {
        const isDefault = (Object.keys(QUALITY_DEFAULTS) as (keyof Setting)[]).every((key) => r.s[key] === QUALITY_DEFAULTS[key]);
        rows.push([i < first.length ? '1' : '2', `${settingName(r.s)}${isDefault ? '  (default)' : ''}`, pm(r.cv.auc), pm(r.cv.accuracy)]);
      });
      table(rows, 2);
    }

    // A. The default classifier, cross-validated, and fastText's own tool on the same folds.
    const defaults = labelledConfig({ seed: SEEDS[0] });
    console.log(`\ndefault classifier (${settingName(defaults)}, balance ${defaults.balance}, bucket ${defaults.bucket}), ${K}-fold cross-validation:`);
    const cliOurs = ['-dim', String(defaults.dim), '-epoch', String(defaults.epoch), '-lr', String(defaults.lr), '-wordNgrams', String(defaults.word_ngrams), '-minCount', String(defaults.min_count), '-bucket', String(defaults.bucket), '-minn', '0', '-maxn', '0', '-loss', 'softmax'];
    const rows = [['seed', 'docs', 'refinery (defaults)', 'fastText CLI (its defaults)', 'fastText CLI (our settings)']];
    let missing = false;
    for (const seed of SEEDS) {
      const c = labelledConfig({ seed });
      const { pos: p, neg: n } = await classes(c);
      const ours = await crossValidate(p, n, c, K);
      if (seed === SEEDS[0]) {
        const folds = [['fold', 'train', 'test', 'ROC AUC', 'accuracy']];
        for (const f of ours.folds) folds.push([String(f.fold), String(f.train), String(f.test), f.auc.toFixed(3), f.accuracy.toFixed(3)]);
        table(folds, 1);
      }
      const cliDefault = fastTextCli(p, n, seed, [], scratch);
      const cliSame = fastTextCli(p, n, seed, cliOurs, scratch);
      missing = cliDefault === null;
      const show = (r: CvReport | null) => (r ? `${pm(r.auc)} (acc ${pm(r.accuracy)})` : 'n/a');
      rows.push([String(seed), `${p.length}+${n.length}`, show(ours), show(cliDefault), show(cliSame)]);
    }
    console.log(`\n${K}-fold ROC AUC, mean ± sd over the folds (the same folds in each row):`);
    table(rows, 2);
    if (missing) console.log('fastText CLI columns skipped: no `fasttext` binary on PATH (Debian/Ubuntu: apt-get install fasttext)');

    const rowsBC = [['signal', 'trained on', 'evaluated on', 'ROC AUC', 'accuracy']];
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
      rowsBC.push([`fastText (${normalization})`, `curated ${report.train.hq} vs web ${report.train.cc}`, `all ${labelled.length}`, r.auc.toFixed(3), r.acc.toFixed(3)]);
    }

    // C. The rules as a judge: kept = useful.
    const rules = heuristicOptions.parse({});
    const verdicts = labelled.map((d) => (judge(d.text, rules).failed ? 0 : 1));
    const acc = verdicts.filter((v, i) => v === labelled[i].label).length / labelled.length;
    const keptOf = (label: number) => {
      const idx = labelled.map((d, i) => (d.label === label ? i : -1)).filter((i) => i >= 0);
      return `${idx.filter((i) => verdicts[i] === 1).length}/${idx.length}`;
    };
    rowsBC.push(['heuristic rules (kept = useful)', '-', `all ${labelled.length}`, rocAuc(verdicts, labelled.map((d) => d.label)).toFixed(3), acc.toFixed(3)]);
    console.log('');
    table(rowsBC, 3);
    console.log(`the rules keep ${keptOf(1)} useful and ${keptOf(0)} not-useful documents`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
