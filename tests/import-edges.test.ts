/** Import edge cases from the reliability issue: long lines, a byte order mark, dates out of range. */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readLines } from '../pipeline/core/lines.js';
import { cleanup, cliOk, expectAccounting, readDocs, tempDir } from './helpers/cli.js';

const dir = tempDir();
afterAll(() => cleanup(dir));

describe('import edge cases', () => {
  it('reads a line that spans many read chunks whole, once (the reader joins it at its newline)', async () => {
    const file = join(dir, 'long.jsonl');
    const long = 'y'.repeat(12 << 20); // 12 chunks of the 1 MiB read size
    writeFileSync(file, `${JSON.stringify({ text: long })}\n{"text":"after"}\nlast line without newline`);
    const lines = [];
    for await (const line of readLines(file, () => undefined)) lines.push(line);
    expect(lines.map((l) => l.text.length)).toEqual([long.length + 11, 16, 25]);
    expect(lines[0].text.endsWith('y"}')).toBe(true);
    expect(lines.map((l) => l.number)).toEqual([1, 2, 3]);
  });

  it('a UTF-8 byte order mark does not make the first line malformed; an out-of-range date is kept in metadata, not stored as 1970', async () => {
    const file = join(dir, 'bom.jsonl');
    writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"id":"a","text":"first","date":1e300}\n{"id":"b","text":"second","date":"2024-05-01T00:00:00Z"}\n{"id":"c","text":"third","date":"not a date"}\n')]));
    const out = join(dir, 'bom-out');
    cliOk(['import', file, '-o', out, '--progress', 'off']);
    const totals = await expectAccounting(out);
    expect(totals.docs_kept).toBe(3);
    const docs = new Map((await readDocs(out)).map((d) => [d.id, d]));
    expect(docs.get('a')?.fetched_at ?? null).toBeNull();
    expect(JSON.parse(docs.get('a')?.metadata as string)).toEqual({ date: 1e300 });
    expect(Number(docs.get('b')?.fetched_at)).toBe(Date.parse('2024-05-01T00:00:00Z'));
    expect(JSON.parse(docs.get('c')?.metadata as string)).toEqual({ date: 'not a date' });
  }, 30_000);

  it('follows symbolic links to files and folders in an input folder, reads a looped folder once, and names a broken link', async () => {
    const real = join(dir, 'real');
    mkdirSync(join(real, 'sub'), { recursive: true });
    writeFileSync(join(real, 'a.jsonl'), '{"id":"a","text":"in a"}\n');
    writeFileSync(join(real, 'sub', 'b.jsonl'), '{"id":"b","text":"in b"}\n');
    const input = join(dir, 'linked');
    mkdirSync(input);
    writeFileSync(join(input, 'own.jsonl'), '{"id":"own","text":"own file"}\n');
    symlinkSync(join(real, 'a.jsonl'), join(input, 'file-link.jsonl'));
    symlinkSync(join(real, 'sub'), join(input, 'folder-link'));
    symlinkSync(input, join(input, 'loop')); // the folder itself: read once
    symlinkSync(join(dir, 'missing.jsonl'), join(input, 'broken.jsonl'));
    const out = join(dir, 'linked-out');
    const r = cliOk(['import', input, '-o', out, '--progress', 'off']);
    expect(r.stderr).toMatch(/broken\.jsonl: a broken symbolic link, not read/);
    expect(r.stderr).toMatch(/loop: a link to a folder already read/);
    await expectAccounting(out);
    expect((await readDocs(out)).map((d) => d.id).sort()).toEqual(['a', 'b', 'own']);
  }, 30_000);
});
