/**
 * Bench `view`: `refinery view` over a 1,000,000-document output (synthetic documents, written
 * as JSONL and imported with the real CLI): time to open the stage page and the 10,000th (and
 * the 900,000th) document page, cold (the first request indexes the shards' record batches from
 * their footers) and warm, and the server's resident memory. The reference, run in this process,
 * finds the 10,000th document by reading the shards in order (what `inspect --head` does).
 *
 *   npm run bench -- view [--docs 1000000] [--words 50] [--files 16] [--dir <scratch dir>] [--keep] [--reuse]
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { syntheticDoc } from '../datasets/synthetic-docs.js';
import { findDocs } from '../pipeline/inspect/inspect.js';
import { arg, measureCommand } from './harness.js';

const cli = fileURLToPath(new URL('../pipeline/cli/main.js', import.meta.url));
const SEED = 7;

const rssMB = (pid: number, field: 'VmRSS' | 'VmHWM') => Math.round(Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);

/** CPU time (user + system) the server process has used, in ms: a measure the machine's load does not inflate. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const [utime, stime] = stat.slice(stat.lastIndexOf(')') + 2).split(' ').slice(11, 13).map(Number);
  return ((utime + stime) * 1000) / 100;
}

async function timed(url: string): Promise<{ ms: number; bytes: number }> {
  const t = performance.now();
  const res = await fetch(url);
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
  return { ms: performance.now() - t, bytes: body.length };
}

export async function main(args: string[]): Promise<void> {
  const docs = Number(arg(args, 'docs', '1000000'));
  const words = Number(arg(args, 'words', '50'));
  const files = Number(arg(args, 'files', '16'));
  const dir = arg(args, 'dir', join(tmpdir(), 'refinery-bench-view'));
  const out = join(dir, 'shards');
  if (!args.includes('--reuse')) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, 'jsonl'), { recursive: true });
    const per = Math.ceil(docs / files);
    for (let f = 0; f < files; f++) {
      const lines: string[] = [];
      for (let i = f * per; i < Math.min(docs, (f + 1) * per); i++) {
        const d = syntheticDoc(SEED, i, words);
        lines.push(JSON.stringify({ id: d.id, url: `https://site-${i % 997}.example/page/${i}`, text: d.text }));
      }
      writeFileSync(join(dir, 'jsonl', `part-${String(f).padStart(3, '0')}.jsonl`), `${lines.join('\n')}\n`);
    }
    // Some documents excluded, so the stage page has reasons to show.
    const imported = await measureCommand('import', process.execPath, [cli, 'import', join(dir, 'jsonl'), '-o', out, '--min-chars', String(Math.round(words * 3.9)), '--progress', 'off']);
    if (imported.code !== 0) throw new Error(`refinery import exited with ${imported.code}`);
    console.log(`view: ${docs.toLocaleString('en')} documents imported in ${imported.seconds.toFixed(1)} s`);
  }

  const server = spawn(process.execPath, [cli, 'view', out, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const base = await new Promise<string>((resolve, reject) => {
    let text = '';
    server.stdout.on('data', (d: Buffer) => {
      text += d.toString();
      const m = /(http:\/\/\S+\/)/.exec(text);
      if (m) resolve(m[1]);
    });
    server.on('exit', (code) => reject(new Error(`refinery view exited with ${code}`)));
  });
  const pid = server.pid as number;
  // The server indexes every output's batches in the background once it listens; let that finish apart
  // only when asked (--settle), so that by default the first page pays whatever is left of it.
  if (args.includes('--settle')) await new Promise((resolve) => setTimeout(resolve, 2000));
  const slug = 'shards';
  const pages: [string, string][] = [
    ['stage page', `${base}stage?out=${slug}`],
    ['document 10,000', `${base}doc?out=${slug}&at=9999`],
    ['document 900,000', `${base}doc?out=${slug}&at=899999`],
    ['stage page at 500,000', `${base}stage?out=${slug}&at=500000`],
    ['filtered list (url ~ site-5.)', `${base}stage?out=${slug}&where=${encodeURIComponent('url ~ site-5.')}`],
  ];
  try {
    console.log(`view: server rss at start ${rssMB(pid, 'VmRSS')} MB`);
    for (const round of ['cold', 'warm']) {
      for (const [name, url] of pages) {
        const cpu = cpuMs(pid);
        const r = await timed(url);
        console.log(`view: ${round.padEnd(4)} ${name.padEnd(30)} ${r.ms.toFixed(0).padStart(6)} ms wall, ${(cpuMs(pid) - cpu).toFixed(0).padStart(5)} ms server CPU  (${(r.bytes / 1024).toFixed(0)} KB of HTML)  server rss ${rssMB(pid, 'VmRSS')} MB`);
      }
    }
    console.log(`view: server peak rss ${rssMB(pid, 'VmHWM')} MB`);
  } finally {
    server.kill();
  }
  // Reference: the same document by reading from the start, as a scan would.
  const t = performance.now();
  let seen = 0;
  await findDocs(out, () => ++seen === 10_000, 1);
  const scanMs = performance.now() - t;
  console.log(`view: reference: 10,000th document by reading the shards in order: ${scanMs.toFixed(0)} ms`);
  if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
}
