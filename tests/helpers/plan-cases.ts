/**
 * The operations of several phases, over one small sample web, for the executor tests
 * (plans.test.ts: local, ranks by hand, Kubernetes manifests; slurm.test.ts: a real Slurm):
 * each case is a command line writing into a given output, and `outcome` reads back what a
 * run decided, so two executors' runs can be compared document by document.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { writeBrownJsonl } from '../../datasets/brown.js';
import { SITES } from '../../datasets/sample-web/sites.js';
import { cliOk, readDocs, repoRoot } from './cli.js';

export interface Fixtures {
  web: string;
  brown: string;
  text: string;
  labelled: string;
  model: string;
}

/** A sample web of 200 pages in 4 files, extracted, labelled by domain, and a quality classifier (Brown vs rejected pages). */
export function buildFixtures(dir: string): Fixtures {
  const f: Fixtures = { web: join(dir, 'web'), brown: join(dir, 'brown'), text: join(dir, 'text'), labelled: join(dir, 'labelled'), model: join(dir, 'model', 'brown.bin') };
  cliOk(['sample-web', '-o', f.web, '--pages', '200', '--seed', '7', '--pages-per-file', '50']);
  cliOk(['ingest', f.web, '-o', join(dir, 'raw'), '--progress', 'off']);
  cliOk(['extract', join(dir, 'raw'), '-o', f.text, '--progress', 'off']);
  writeFileSync(join(dir, 'rules.json'), JSON.stringify(Object.values(SITES).map((s) => ({ domain: s.domain, hosts: [s.host] }))));
  cliOk(['domains', f.text, '-o', f.labelled, '--rules', join(dir, 'rules.json'), '--progress', 'off']);
  writeBrownJsonl(f.brown);
  cliOk(['import', f.brown, '-o', join(dir, 'brown-docs'), '--progress', 'off']);
  cliOk(['quality', 'filter', f.text, '-o', join(dir, 'rules'), '--progress', 'off']);
  cliOk(['quality', 'train', '--positive', join(dir, 'brown-docs'), '--negative', join(dir, 'rules', '_excluded'), '-o', f.model, '--label', 'brown', '--min-chars', '50']);
  return f;
}

/** configs/demo.yaml with its paths moved under `out` and its inputs taken from the fixtures. */
function demoPipeline(f: Fixtures, out: string): string {
  const demo = parse(readFileSync(join(repoRoot, 'configs', 'demo.yaml'), 'utf8')) as { stages: Record<string, unknown>[] };
  for (const s of demo.stages) {
    for (const key of ['input', 'output'] as const) {
      if (typeof s[key] !== 'string') continue;
      const path = s[key] as string;
      s[key] = path === 'out/demo/web' ? f.web : path === 'out/demo/brown' ? f.brown : join(out, path.replace(/^out\/demo\//, ''));
    }
    if (typeof s.blocklist_domains === 'string') s.blocklist_domains = join(repoRoot, s.blocklist_domains);
  }
  const file = `${out}.yaml`;
  writeFileSync(file, stringify(demo));
  return file;
}

export interface PlanCase {
  name: string;
  /** The command line writing into `out`. */
  args(f: Fixtures, out: string): string[];
  /** The stage outputs to compare (relative to `out` for a pipeline; '' is `out` itself). */
  outputs: string[];
}

export const PLAN_CASES: PlanCase[] = [
  { name: 'dedup minhash', args: (f, out) => ['dedup', 'minhash', f.text, '-o', out, '--memory', '64m', '--partitions', '4'], outputs: [''] },
  { name: 'mix', args: (f, out) => ['mix', f.labelled, '-o', out, '--temperature', '3', '--max-epochs', '2', '--holdout', '5%'], outputs: [''] },
  { name: 'select --top', args: (f, out) => ['select', f.text, '-o', out, '--by', 'lang_score', '--top', '40%'], outputs: [''] },
  { name: 'quality --keep-top', args: (f, out) => ['quality', 'filter', f.text, '-o', out, '--classifier', f.model, '--keep-top', '30%'], outputs: [''] },
  { name: 'dedup lines', args: (f, out) => ['dedup', 'lines', f.text, '-o', out, '--partitions', '4'], outputs: [''] },
  {
    name: 'run configs/demo.yaml',
    args: (f, out) => ['run', demoPipeline(f, out)],
    outputs: ['raw', 'text', 'clean', 'unique', 'dedup', 'deduped', 'quality', 'imported', 'exported'],
  },
];

const digest = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);

/**
 * What a run decided, per stage output: each kept document (id and a digest of all its
 * columns, repeats included) and each excluded one (with its reason), sorted.
 */
export async function outcome(c: PlanCase, out: string): Promise<Record<string, { kept: string[]; excluded: string[]; files: string[] }>> {
  const result: Record<string, { kept: string[]; excluded: string[]; files: string[] }> = {};
  for (const rel of c.outputs) {
    const dir = rel ? join(out, rel) : out;
    if (rel === 'exported') {
      // JSONL export: its files' content.
      const files = readdirSync(dir).filter((n) => n.endsWith('.jsonl.gz')).sort();
      result[rel] = { kept: [], excluded: [], files: files.map((n) => `${n} ${createHash('sha256').update(readFileSync(join(dir, n))).digest('hex').slice(0, 16)}`) };
      continue;
    }
    const kept = (await readDocs(dir)).map((d) => `${d.id} ${digest(d)}`).sort();
    const excludedDir = join(dir, '_excluded');
    const excluded = existsSync(excludedDir) ? (await readDocs(excludedDir)).map((d) => `${d.id} ${String(d.excluded_by)} ${String(d.reason)}`).sort() : [];
    result[rel] = { kept, excluded, files: [] };
  }
  return result;
}

/** The phase ids of a command, from --list-phases. */
export function phasesOf(args: string[]): string[] {
  return cliOk([...args, '--list-phases']).stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]);
}
