/**
 * What refinery deletes (issue 24): only directories it made (marked `.refinery-owned`) or paths
 * inside them, never a user's folder, an input or the working directory. Through the real CLI
 * (--work and --overwrite of the multi-pass commands, output = input, pipeline files), then the
 * guard itself (pipeline/core/owned-dirs.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../pipeline/core/errors.js';
import { MARKER, claimDir, deleteRefusal, legacyOutput, markerKind, refuseInputOverlap, removeOwned } from '../pipeline/core/owned-dirs.js';
import { CORE_COLUMNS } from '../pipeline/core/schema.js';
import { ShardWriter } from '../pipeline/core/shard-writer.js';
import { cleanup, cli, cliOk, expectAccounting, tempDir } from './helpers/cli.js';

const dir = tempDir();
afterAll(() => cleanup(dir));

/** Two shards a user made (no refinery output): duplicate texts and lines, a score and a domain. */
const input = join(dir, 'in');
const model = join(dir, 'model', 'good.bin');

beforeAll(() => {
  const columns = [...CORE_COLUMNS, { name: 'score', type: 'float64' as const }, { name: 'domain', type: 'string' as const }];
  mkdirSync(input, { recursive: true });
  for (let f = 0; f < 2; f++) {
    const w = new ShardWriter({ dir: input, base: `part-${String(f).padStart(5, '0')}`, columns, metadata: { 'refinery.schema_version': '1' } });
    for (let i = 0; i < 30; i++) {
      const text = i % 5 === 0 ? 'The same page, crawled twice.' : `Menu: home, about, contact.\nThe scholar wrote essay ${f}-${i} about history and science.`;
      w.write({ id: `doc-${f}-${i}`, url: `https://example.com/${f}/${i}`, text, score: i % 10, domain: i % 2 ? 'news' : 'wiki' });
    }
    w.publish();
  }
  // A tiny classifier for quality --keep-top.
  for (const [name, line] of [['pos', 'the scholar wrote a careful essay about history and science, with clear sentences'], ['neg', 'buy cheap pills now click here free money win']]) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'a.jsonl'), Array.from({ length: 40 }, (_, i) => JSON.stringify({ text: `${line} ${i}` })).join('\n'));
    cliOk(['import', join(dir, name), '-o', join(dir, `${name}-docs`), '--progress', 'off']);
  }
  cliOk(['quality', 'train', '--positive', join(dir, 'pos-docs'), '--negative', join(dir, 'neg-docs'), '-o', model, '--label', 'good', '--min-chars', '10']);
}, 120_000);

/** Every file under `root` (hidden ones too) with a digest of its bytes. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(root, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(root);
  return out;
}

/** A refused run: exit code 2, one line naming the reason. */
function expectRefused(args: string[], message: RegExp): void {
  const r = cli([...args, '--progress', 'off']);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr.trim()).toMatch(message);
}

const THESIS = '\\documentclass{book}\n% four years of work\n';

/** A user's folder holding the one copy of a thesis. */
function userFolder(path: string): string {
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'thesis.tex'), THESIS);
  return path;
}

const expectThesisIntact = (folder: string) => {
  expect(readdirSync(folder)).toEqual(['thesis.tex']);
  expect(readFileSync(join(folder, 'thesis.tex'), 'utf8')).toBe(THESIS);
};

// The commands that keep a work directory beside their output.
const WORK_COMMANDS: { name: string; args: string[] }[] = [
  { name: 'dedup exact', args: ['dedup', 'exact', input] },
  { name: 'dedup lines', args: ['dedup', 'lines', input] },
  { name: 'select --top', args: ['select', input, '--by', 'score', '--top', '50%'] },
  { name: 'mix', args: ['mix', input, '--by', 'domain'] },
  { name: 'quality --keep-top', args: ['quality', 'filter', input, '--classifier', model, '--keep-top', '50%', '--no-gopher-repetition', '--no-gopher-quality', '--no-c4', '--no-fineweb'] },
];

describe('--work and --overwrite (issue 24, item 1)', () => {
  for (const [n, { name, args }] of WORK_COMMANDS.entries()) {
    it(`${name}: a user's folder given as --work is neither written into nor deleted; a refinery work dir is replaced`, async () => {
      const p = join(dir, `work-${n}`);
      const important = userFolder(join(p, 'important'));
      const out = join(p, 'e');
      for (const overwrite of [['--overwrite'], []]) {
        expectRefused([...args, '-o', out, '--work', important, ...overwrite], /important: exists and is not a refinery work directory \(no \.refinery-owned\); refusing to write into it$/);
        expectThesisIntact(important);
        expect(existsSync(out)).toBe(false);
      }
      // Its own work directory (<out>-work) and output are refinery's: --overwrite replaces them.
      cliOk([...args, '-o', out, '--progress', 'off']);
      expect(markerKind(`${out}-work`)).toBe('work');
      expect(markerKind(out)).toBe('output');
      writeFileSync(join(`${out}-work`, 'stale'), 'from the first run');
      cliOk([...args, '-o', out, '--overwrite', '--progress', 'off']);
      expect(existsSync(join(`${out}-work`, 'stale'))).toBe(false);
      expect(markerKind(`${out}-work`)).toBe('work');
      await expectAccounting(out);
    }, 120_000);
  }

  it('an unrelated <out>-work folder survives --overwrite', () => {
    const p = join(dir, 'unrelated');
    const work = userFolder(join(p, 'e-work'));
    expectRefused(['dedup', 'exact', input, '-o', join(p, 'e'), '--overwrite'], /e-work: exists and is not a refinery work directory/);
    expectThesisIntact(work);
  }, 60_000);

  it('outputs and work directories of earlier versions (no marker) are adopted; with a foreign file they are refused', async () => {
    const out = join(dir, 'legacy', 'e');
    cliOk(['dedup', 'exact', input, '-o', out, '--progress', 'off']);
    const unmark = () => {
      for (const d of [out, `${out}-work`, join(`${out}-work`, 'signatures')]) rmSync(join(d, MARKER));
    };
    unmark();
    cliOk(['dedup', 'exact', input, '-o', out, '--overwrite', '--progress', 'off']);
    expect([markerKind(out), markerKind(`${out}-work`)]).toEqual(['output', 'work']);
    await expectAccounting(out);
    unmark();
    writeFileSync(join(`${out}-work`, 'thesis.tex'), THESIS);
    expectRefused(['dedup', 'exact', input, '-o', out, '--overwrite'], /e-work: exists and is not a refinery work directory/);
    expect(readFileSync(join(`${out}-work`, 'thesis.tex'), 'utf8')).toBe(THESIS);
  }, 120_000);
});

describe('an output that is, or holds, an input (issue 24, item 2)', () => {
  const same = join(dir, 'same');
  let before: Record<string, string>;
  beforeAll(() => {
    cliOk(['pii', input, '-o', same, '--progress', 'off']);
    before = snapshot(same);
  }, 60_000);

  it('pii X -o X is refused, with or without --overwrite, and X stays byte for byte', () => {
    for (const overwrite of [['--overwrite'], []]) {
      expectRefused(['pii', same, '-o', same, ...overwrite], /same: is the input .*same; write the output to another directory$/);
      expect(snapshot(same)).toEqual(before);
    }
  }, 60_000);

  it('also through a symlink to the input, and when the output holds an input file', () => {
    const link = join(dir, 'link-to-same');
    symlinkSync(same, link);
    expectRefused(['pii', same, '-o', link, '--overwrite'], /link-to-same: is the input .*same;/);
    expectRefused(['dedup', 'exact', join(same, 'part-00000-0000.arrow'), '-o', same, '--overwrite'], /same: holds the input .*part-00000-0000\.arrow;/);
    expect(snapshot(same)).toEqual(before);
  }, 60_000);

  it('refinery run refuses a pipeline that writes over its own or an earlier stage\'s input, before any stage runs', () => {
    const cases: [string, RegExp][] = [
      [`  - stage: pii\n    input: ${same}\n    output: ${same}\n`, /stages\[0\] \(pii\): output .*same is the input .*same; write it to another directory$/],
      // The second stage reads the first one's output (no "input"), and writes there too.
      [`  - stage: pii\n    input: ${same}\n    output: ${dir}/pipe/a\n  - stage: pii\n    output: ${dir}/pipe/a\n`, /stages\[1\] \(pii\): output .*pipe\/a is the input .*pipe\/a;/],
      [`  - stage: pii\n    input: ${same}\n    output: ${dir}/pipe/b\n  - stage: dedup-exact\n    output: ${same}\n`, /stages\[1\] \(dedup-exact\): output .*same is the input .*same of stages\[0\] \(pii\);/],
    ];
    for (const [i, [stages, message]] of cases.entries()) {
      const file = join(dir, `pipeline-${i}.yaml`);
      writeFileSync(file, `overwrite: true\nstages:\n${stages}`);
      expectRefused(['run', file], message);
      expect(snapshot(same)).toEqual(before);
    }
    expect(existsSync(join(dir, 'pipe'))).toBe(false);
  }, 60_000);
});

describe('the guard (core/owned-dirs.ts)', () => {
  const g = join(dir, 'guard');
  const refused = (fn: () => void, message: RegExp) => {
    let error: unknown;
    try {
      fn();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(message);
  };
  /** A marked output directory holding one file. */
  const owned = (name: string) => {
    const d = join(g, name);
    claimDir(d, 'output', 'test', legacyOutput);
    writeFileSync(join(d, 'part.arrow'), 'data');
    return d;
  };

  it('deletes what it marked: empties a marked directory (keeping the marker) or removes a path inside one', () => {
    const d = owned('mine');
    expect(JSON.parse(readFileSync(join(d, MARKER), 'utf8'))).toMatchObject({ kind: 'output', by: 'test' });
    mkdirSync(join(d, 'sub', 'deeper'), { recursive: true });
    removeOwned(join(d, 'sub'));
    expect(readdirSync(d).sort()).toEqual([MARKER, 'part.arrow']);
    removeOwned(d);
    expect(readdirSync(d)).toEqual([MARKER]);
  });

  it('refuses a directory without the marker', () => {
    const d = userFolder(join(g, 'theirs'));
    refused(() => removeOwned(d), /theirs: refusing to delete: refinery did not make it \(no \.refinery-owned in it or above it\)/);
    expectThesisIntact(d);
  });

  it('refuses a marked directory that is or holds an input, also through symlinks', () => {
    const d = owned('holds-input');
    refused(() => removeOwned(d, [join(d, 'part.arrow')]), /refusing to delete: it holds the input .*part\.arrow/);
    refused(() => removeOwned(d, [d]), /refusing to delete: it is the input/);
    // The path to delete is a symlink to the input directory, and the input is named through another.
    const link = join(g, 'link-to-input');
    symlinkSync(d, link);
    refused(() => removeOwned(link, [d]), /link-to-input: refusing to delete: it is the input/);
    refused(() => removeOwned(d, [join(link, 'part.arrow')]), /it holds the input .*link-to-input\/part\.arrow/);
    refused(() => refuseInputOverlap([link], [d]), /link-to-input: is the input/);
    expect(readFileSync(join(d, 'part.arrow'), 'utf8')).toBe('data');
  });

  it('refuses the working directory and its ancestors, the home directory and the root', () => {
    const d = owned('cwd');
    mkdirSync(join(d, 'sub'));
    const cwd = process.cwd();
    process.chdir(join(d, 'sub'));
    try {
      refused(() => removeOwned(d), /refusing to delete: it is or holds the working directory/);
      refused(() => removeOwned(join(d, 'sub')), /it is or holds the working directory/);
    } finally {
      process.chdir(cwd);
    }
    expect(readdirSync(d).sort()).toEqual([MARKER, 'part.arrow', 'sub']);
    // Only asked, never attempted.
    expect(deleteRefusal('/', [])).toBe('it is the filesystem root');
    expect(deleteRefusal(homedir(), [])).toMatch(/home directory|working directory/);
  });

  it('claims only a new, empty or earlier-version directory of the same kind', () => {
    refused(() => claimDir(userFolder(join(g, 'claim-foreign')), 'work', 'test', legacyOutput), /claim-foreign: exists and is not a refinery work directory/);
    const empty = join(g, 'claim-empty');
    mkdirSync(empty);
    claimDir(empty, 'work', 'test', legacyOutput);
    expect(markerKind(empty)).toBe('work');
    refused(() => claimDir(empty, 'output', 'test', legacyOutput), /claim-empty: is a refinery work directory, not an output directory/);
    // Another rank of the same run is writing its marker: the directory is still empty.
    const racing = join(g, 'claim-racing');
    mkdirSync(racing);
    writeFileSync(join(racing, `${MARKER}.tmp-999`), '');
    claimDir(racing, 'output', 'test', legacyOutput);
    expect(markerKind(racing)).toBe('output');
    const old = join(g, 'claim-old');
    mkdirSync(old);
    writeFileSync(join(old, '_manifest.json'), JSON.stringify({ refinery: '0.0.9', stage: 'pii' }));
    claimDir(old, 'output', 'test', legacyOutput);
    expect(markerKind(old)).toBe('output');
    const other = join(g, 'claim-other-manifest');
    mkdirSync(other);
    writeFileSync(join(other, '_manifest.json'), JSON.stringify({ tool: 'something else' }));
    refused(() => claimDir(other, 'output', 'test', legacyOutput), /exists and is not a refinery output directory/);
  });
});
