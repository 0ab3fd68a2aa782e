/**
 * An output or work directory that cannot be written (issue 24, item 8): one clear line naming
 * the directory and the cause, exit code 2, through the real CLI. Root ignores permissions, so
 * as root the CLI runs as the user "nobody" (uid 65534) for the permission cases.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, cliOk, cliPath, repoRoot, tempDir } from './helpers/cli.js';

const dir = tempDir();
const input = join(dir, 'in.jsonl');
const shards = join(dir, 'shards');
const readOnly = join(dir, 'read-only');
const writable = join(dir, 'writable');
const asRoot = process.getuid?.() === 0;

afterAll(() => {
  chmodSync(readOnly, 0o755);
  cleanup(dir);
});

beforeAll(() => {
  chmodSync(dir, 0o755); // the user "nobody" reads the input in it
  writeFileSync(input, '{"id":"a","text":"A line of text to import."}\n{"id":"b","text":"Another line of text."}\n');
  cliOk(['import', input, '-o', shards, '--progress', 'off']);
  mkdirSync(writable);
  chmodSync(writable, 0o777);
  mkdirSync(readOnly);
  chmodSync(readOnly, 0o555);
}, 120_000);

/** The CLI as an unprivileged user: as root, as "nobody". */
function cliUnprivileged(args: string[]) {
  const r = spawnSync(process.execPath, [cliPath, ...args, '--progress', 'off'], {
    cwd: repoRoot,
    encoding: 'utf8',
    ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
  });
  return { code: r.status, stderr: r.stderr };
}

function expectRefused(r: { code: number | null; stderr: string }, line: string): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toBe(`refinery: ${line}\n`);
}

describe('an output or work directory that cannot be written', () => {
  it('a read-only output folder, or one inside it, names the folder and the cause', () => {
    expectRefused(cliUnprivileged(['import', input, '-o', readOnly]), `${readOnly}: cannot write here (permission denied)`);
    const below = join(readOnly, 'out', 'deeper');
    expectRefused(cliUnprivileged(['import', input, '-o', below]), `${below}: cannot write here (permission denied)`);
  });

  it('a read-only work directory of a command of several phases', () => {
    const work = join(readOnly, 'work');
    expectRefused(cliUnprivileged(['dedup', 'exact', shards, '-o', join(writable, 'deduped'), '--work', work]), `${work}: cannot write here (permission denied)`);
  });

  it('a file where a parent directory should be', () => {
    const out = join(input, 'out');
    expectRefused(cliUnprivileged(['import', input, '-o', out]), `${out}: cannot write here (a parent is a file, not a directory)`);
  });
});
