/**
 * Bench `decontaminate`: documents per second on one core, matching every document against
 * 10,000 task items (13-grams), with the exact index and with the Bloom filter, each phase in
 * its own process for an honest peak RSS; the reference is a plain read of the same shards
 * (every document's text touched), so the ratio is the cost of decontamination over reading.
 *
 *   npm run bench -- decontaminate [--docs 50000] [--words 300] [--items 10000] [--dir <scratch>]
 *
 * Documents: WikiText-2 sentences (../shared/data) strung into pages, 1 in 50 with a planted
 * item. Items: 10,000 windows of 10-40 words of Botchan (Gutenberg), overlapping.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listTasks } from '../pipeline/core/inputs.js';
import { Random } from '../pipeline/core/random.js';
import { openShard } from '../pipeline/core/shard-reader.js';
import { NgramIndex, splitWords } from '../pipeline/decontaminate/ngrams.js';
import { readSuites } from '../pipeline/decontaminate/tasks.js';
import { arg, isolated, ratio, report, type PhaseFn } from './harness.js';

const cli = fileURLToPath(new URL('../pipeline/cli/main.js', import.meta.url));

export async function main(args: string[]): Promise<void> {
  const docs = Number(arg(args, 'docs', '50000'));
  const words = Number(arg(args, 'words', '300'));
  const nItems = Number(arg(args, 'items', '10000'));
  const dir = arg(args, 'dir', join(tmpdir(), 'refinery-bench-decontaminate'));
  const data = process.env.REFINERY_SHARED_DATA ?? resolve(fileURLToPath(new URL('../../../shared/data', import.meta.url)));
  const shards = join(dir, `shards-${docs}-${words}-${nItems}`);
  const tasks = join(dir, `botchan-items-${nItems}.txt`);

  if (!args.includes('--phase')) {
    mkdirSync(dir, { recursive: true });
    const rng = new Random(22);
    const wiki = readFileSync(join(data, 'hq-text-wikitext2', 'wikitext-2.valid.txt'), 'utf8').split('\n').filter((l) => l.trim().length > 100 && !l.trim().startsWith('='));
    const sentences = wiki.flatMap((p) => p.split(' . ')).filter((s) => s.split(' ').length > 3);
    const book = readFileSync(join(data, 'hq-text-gutenberg-botchan', 'botchan.part1.txt'), 'utf8').replace(/\s+/g, ' ').split(' ');
    if (!existsSync(tasks)) {
      const items: string[] = [];
      for (let i = 0; i < nItems; i++) {
        const from = book;
        const len = rng.int(10, 40);
        const at = rng.int(0, from.length - len);
        items.push(from.slice(at, at + len).join(' '));
      }
      writeFileSync(tasks, `${items.join('\n')}\n`);
    }
    if (!existsSync(shards)) {
      const items = readFileSync(tasks, 'utf8').split('\n');
      const lines: string[] = [];
      for (let i = 0; i < docs; i++) {
        const parts: string[] = [];
        for (let n = 0; n < words; n += parts[parts.length - 1].split(' ').length) parts.push(sentences[rng.int(0, sentences.length - 1)]);
        if (i % 50 === 0) parts.splice(rng.int(0, parts.length), 0, items[rng.int(0, nItems - 1)]);
        lines.push(JSON.stringify({ id: `d${i}`, text: parts.join(' . ') }));
      }
      const jsonl = join(dir, `docs-${docs}-${words}.jsonl`);
      writeFileSync(jsonl, `${lines.join('\n')}\n`);
      const r = spawnSync(process.execPath, [cli, 'import', jsonl, '-o', shards, '--progress', 'off'], { stdio: 'inherit' });
      if (r.status !== 0) throw new Error('import failed');
    }
  }

  const scan = async (each: (text: string) => number): Promise<{ bytes: number; docs: number; found: number }> => {
    let bytes = 0;
    let n = 0;
    let found = 0;
    for (const task of listTasks({ kind: 'shards' }, [shards])) {
      const shard = await openShard(task.path);
      for await (const doc of shard.docs()) {
        const text = typeof doc.text === 'string' ? doc.text : '';
        bytes += text.length;
        n++;
        if (each(text) > 0) found++;
      }
    }
    return { bytes, docs: n, found };
  };
  const matcher = (index: 'exact' | 'bloom'): PhaseFn => async () => {
    const { suites, items } = readSuites([tasks]);
    const idx = new NgramIndex(suites, items, { n: 13, index, bloomSize: 64 * 2 ** 20, bloomHashes: 8 });
    const r = await scan((text) => idx.matches(splitWords(text)).length);
    if (process.send === undefined) console.log(`${index}: ${r.found} documents contaminated`);
    else console.error(`decontaminate ${index}: ${r.found} of ${r.docs} documents contaminated (${idx.ngrams} item 13-grams${idx.bloom ? `, false-positive bound ${idx.bloom.falsePositiveBound().toExponential(2)} per lookup` : ''})`);
    return r;
  };
  const results = await isolated('decontaminate', args, {
    'read (reference)': () => scan((text) => text.length & 0),
    'exact index': matcher('exact'),
    'bloom index': matcher('bloom'),
  });
  if (!results) return;
  console.log(`decontaminate: ${docs.toLocaleString('en')} documents of ~${words} words against ${nItems.toLocaleString('en')} task items, one core`);
  report(results);
  const [read, exact, bloom] = results;
  console.log(`throughput vs a plain read of the same shards: exact ${ratio(exact, read)}, bloom ${ratio(bloom, read)}`);
}
