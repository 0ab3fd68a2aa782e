/**
 * Bench `big-docs`: one very large document through the CLI (issue 24), with wall time and
 * the peak RSS of the whole process tree (the worker child included) against the targets.
 *
 *   npm run bench -- big-docs [--line 200MB] [--doc 50MB] [--dir /tmp]
 *
 * - import: one JSONL line of --line bytes (target: < 5 s, peak < 3x the line);
 * - quality: `quality filter --workers 1` on one document of --doc (target: peak < 500 MB),
 *   once as the filter runs (it stops at too-many-words) and once with that limit lifted,
 *   so every rule family measures the whole text.
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { byteSize } from '../pipeline/core/config.js';
import { arg, measureCommand } from './harness.js';

const WORDS = (
  'the of and to in is that for it with as was on be by this are from at or an have not they which one you were her all she there would ' +
  'their we him been has when who will more no if out so said what up its about into than them can only other new some could time these two ' +
  'may then do first any my now such like our over man me even most made after also did many before must through back years where much your ' +
  'way well down should because each just those people how too little state good very make world still own see men work long get here between'
).split(' ');

/** About `chars` characters of sentences, paragraphs and lines, a few non-ASCII and quoted: the same text for the same seed. */
export function bigText(chars: number, seed: number): string {
  let s = seed >>> 0 || 1;
  const next = (n: number) => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) % n);
  const parts: string[] = [];
  let length = 0;
  for (let sentence = 1; length < chars; sentence++) {
    const words: string[] = [];
    for (let k = 8 + next(20); k > 0; k--) words.push(WORDS[next(WORDS.length)]);
    words[0] = words[0][0].toUpperCase() + words[0].slice(1);
    let piece = `${words.join(' ')}${next(10) === 0 ? ' "quoted" é…' : ''}. `;
    if (sentence % 6 === 0) piece += '\n';
    if (sentence % 30 === 0) piece += '\n';
    parts.push(piece);
    length += piece.length;
  }
  return parts.join('');
}

/** Writes `bytes` of text in pieces (a 200 MB string would skew the parent's memory): as one JSON line, or plain. */
function writeBig(path: string, bytes: number, json: boolean): void {
  const fd = openSync(path, 'w');
  if (json) writeSync(fd, '{"id":"big","url":"http://example.com/big","text":"');
  for (let written = 0, seed = 1; written < bytes; seed++) {
    const piece = bigText(Math.min(4e6, bytes - written), seed);
    written += writeSync(fd, json ? JSON.stringify(piece).slice(1, -1) : piece);
  }
  if (json) writeSync(fd, '"}\n');
  closeSync(fd);
}

export async function main(args: string[]): Promise<void> {
  const line = byteSize().parse(arg(args, 'line', '200MB'));
  const doc = byteSize().parse(arg(args, 'doc', '50MB'));
  const dir = mkdtempSync(join(arg(args, 'dir', tmpdir()), 'refinery-big-docs-'));
  const cli = fileURLToPath(new URL('../pipeline/cli/main.js', import.meta.url));
  try {
    mkdirSync(join(dir, 'line'));
    writeBig(join(dir, 'line', 'big.jsonl'), line, true);
    mkdirSync(join(dir, 'doc'));
    writeBig(join(dir, 'doc', 'big.txt'), doc, false);
    const run = (name: string, ...a: string[]) => measureCommand(name, process.execPath, [cli, ...a, '--progress', 'off']);
    const results = [
      { ...(await run('import line', 'import', join(dir, 'line'), '-o', join(dir, 'imported'))), target: `< 5 s, < ${Math.round((3 * line) / 2 ** 20)} MB` },
      { ...(await run('import doc', 'import', join(dir, 'doc'), '-o', join(dir, 'docs'))), target: '' },
      { ...(await run('quality filter', 'quality', 'filter', join(dir, 'docs'), '-o', join(dir, 'q1'), '--workers', '1')), target: '< 500 MB' },
      { ...(await run('quality all rules', 'quality', 'filter', join(dir, 'docs'), '-o', join(dir, 'q2'), '--workers', '1', '--gopher-max-words', '1000000000')), target: '< 500 MB' },
    ];
    console.log(`line ${(line / 1e6).toFixed(0)} MB, document ${(doc / 1e6).toFixed(0)} MB`);
    console.log('run                  exit  seconds  tree RSS MB  max process MB  target');
    for (const r of results) {
      console.log(`${r.name.padEnd(20)} ${String(r.code).padStart(4)}  ${r.seconds.toFixed(2).padStart(7)}  ${String(r.peakTreeRssMB).padStart(11)}  ${String(r.peakProcessRssMB).padStart(14)}  ${r.target}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
