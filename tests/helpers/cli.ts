/** Run the real CLI (the compiled one that `npx refinery` runs) and inspect its outputs. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { Doc } from '../../pipeline/core/schema.js';
import { openShard } from '../../pipeline/core/shard-reader.js';
import { accountingViolations, readTaskStats, sumStats, type Totals } from '../../pipeline/core/stats.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cliPath = join(repoRoot, 'dist', 'pipeline', 'cli', 'main.js');

if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run "npm run build" (npm test does it first)`);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: opts.cwd ?? repoRoot,
    env: { ...process.env, REFINERY_LOG_INTERVAL: '1', ...opts.env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The CLI without blocking this process (needed when this process also runs a server the CLI talks to). */
/** Run the CLI and expect success (the stderr is the failure message). */
export function cliOk(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): CliResult {
  const r = cli(args, opts);
  expect(r.code, r.stderr).toBe(0);
  return r;
}

export function cliAsync(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd: opts.cwd ?? repoRoot, env: { ...process.env, REFINERY_LOG_INTERVAL: '1', ...opts.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** The same, asynchronously, in its own process group so that a test can kill the whole run. */
export function cliDetached(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawn(process.execPath, [cliPath, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    detached: true,
    stdio: 'ignore',
  });
}

export function tempDir(prefix = 'refinery-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Every document of a directory of shards (or one shard), in file order. */
export async function readDocs(path: string): Promise<Doc[]> {
  const files = existsSync(path) && !path.endsWith('.arrow')
    ? readdirSync(path).filter((n) => n.endsWith('.arrow') && !n.startsWith('.')).sort().map((n) => join(path, n))
    : [path];
  const docs: Doc[] = [];
  for (const file of files) {
    const shard = await openShard(file);
    for await (const doc of shard.docs()) docs.push(doc);
  }
  return docs;
}

/**
 * The accounting invariant of a stage output, checked from both sides: the per-task stats
 * add up (in = kept + excluded, per step), and the shards hold exactly those counts.
 */
export async function expectAccounting(out: string): Promise<Totals> {
  const stats = readTaskStats(out);
  expect(stats.length).toBeGreaterThan(0);
  expect(stats.flatMap(accountingViolations)).toEqual([]);
  const totals = sumStats(stats);
  expect((await readDocs(out)).length).toBe(totals.docs_kept);
  const excludedDir = join(out, '_excluded');
  const excluded = existsSync(excludedDir) ? await readDocs(excludedDir) : [];
  expect(excluded.length).toBe(totals.docs_excluded);
  for (const doc of excluded) {
    expect(typeof doc.excluded_by).toBe('string');
    expect(typeof doc.reason).toBe('string');
  }
  return totals;
}

/** ../shared/data (or $REFINERY_SHARED_DATA); null when absent outside CI, an error under CI. */
export function sharedData(): string | null {
  const dir = process.env.REFINERY_SHARED_DATA ?? resolve(repoRoot, '..', 'shared', 'data');
  if (existsSync(dir)) return dir;
  if (process.env.CI === 'true') throw new Error(`shared test data not found at ${dir} (CI=true requires it; set REFINERY_SHARED_DATA)`);
  return null;
}

export const SHARED_SKIP_REASON = 'needs ../shared/data (or REFINERY_SHARED_DATA): not present on this machine';
