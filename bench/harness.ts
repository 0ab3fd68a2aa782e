/**
 * Shared by all benchmarks: timing, peak memory, and a plain report.
 *
 * Peak memory is only honest when a phase has the process to itself, so `isolated()`
 * runs each phase in a fresh child process (`npm run bench -- <name> --phase <phase>`)
 * and reports that child's peak RSS, along with its RSS before the phase started (the
 * baseline: Node itself plus the benchmark's input data).
 */
import { fork, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Doc } from '../pipeline/core/schema.js';

export interface PhaseResult {
  name: string;
  /** Set when the phase's process died (out of memory, a crash) instead of finishing. */
  died?: string;
  seconds: number;
  /** Bytes processed (for MB/s) and documents (for docs/s). */
  bytes: number;
  docs: number;
  baselineRssMB: number;
  peakRssMB: number;
  /** A phase's own throughputs over its timed part, when its setup must not count (names and units: the bench's). */
  rates?: Record<string, number>;
}

export type PhaseOutput = { bytes: number; docs: number; rates?: Record<string, number> };
export type PhaseFn = () => Promise<PhaseOutput> | PhaseOutput;

const mb = (bytes: number) => Math.round(bytes / 2 ** 20);

/** Time one phase in this process (peak RSS is process-wide: see `isolated`). */
export async function phase(name: string, fn: PhaseFn): Promise<PhaseResult> {
  global.gc?.();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  const start = performance.now();
  const { bytes, docs, rates } = await fn();
  const seconds = (performance.now() - start) / 1000;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
  return { name, seconds, bytes, docs, baselineRssMB: mb(baseline), peakRssMB: mb(peak), ...(rates ? { rates } : {}) };
}

/**
 * In the parent: run `phases` one after another, each in its own child process, and
 * collect their results. In a child (started with --phase): run that phase and report.
 * Returns null in the child.
 */
export async function isolated(bench: string, args: string[], phases: Record<string, PhaseFn>, env: Record<string, string> = {}): Promise<PhaseResult[] | null> {
  const wanted = arg(args, 'phase', '');
  if (wanted) {
    const fn = phases[wanted];
    if (!fn) throw new Error(`unknown phase ${wanted}`);
    process.send?.(await phase(wanted, fn));
    return null;
  }
  const runner = fileURLToPath(new URL('./run.js', import.meta.url));
  const results: PhaseResult[] = [];
  for (const name of Object.keys(phases)) {
    const child = fork(runner, [bench, ...args, '--phase', name], { env: { ...process.env, ...env } });
    const result = await new Promise<PhaseResult>((resolve, reject) => {
      let got: PhaseResult | null = null;
      child.on('message', (m: PhaseResult) => (got = m));
      child.on('error', reject);
      child.on('exit', (code, signal) =>
        resolve(got ?? { name, died: signal ?? `exit code ${code}`, seconds: Number.NaN, bytes: 0, docs: 0, baselineRssMB: 0, peakRssMB: 0 }),
      );
    });
    results.push(result);
  }
  return results;
}

export function report(results: PhaseResult[]): void {
  const rows = [['phase', 'seconds', 'MB', 'MB/s', 'docs/s', 'peak RSS MB', 'baseline MB']];
  for (const r of results) {
    if (r.died) {
      rows.push([r.name, `died (${r.died})`, '', '', '', '', '']);
      continue;
    }
    rows.push([
      r.name,
      r.seconds.toFixed(2),
      (r.bytes / 1e6).toFixed(0),
      (r.bytes / 1e6 / r.seconds).toFixed(1),
      Math.round(r.docs / r.seconds).toString(),
      String(r.peakRssMB),
      String(r.baselineRssMB),
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
}

/** Throughput of `ours` over `reference` (> 1: ours is faster). */
export function ratio(ours: PhaseResult, reference: PhaseResult): string {
  return (ours.bytes / ours.seconds / (reference.bytes / reference.seconds)).toFixed(2);
}

/** `--name value` from the benchmark's arguments. */
export function arg(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
}

export interface CommandResult {
  name: string;
  code: number | null;
  seconds: number;
  /** Peak of the summed RSS of the command and all its descendants (sampled every 50 ms). */
  peakTreeRssMB: number;
  /** The largest peak RSS (VmHWM) of any single process of the tree. */
  peakProcessRssMB: number;
}

/** Processes in the tree under `root`, from /proc (Linux). */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // gone meanwhile
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}

function statusKB(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * Run a command (the real CLI, say) and measure its wall time and the peak memory of its
 * whole process tree: pool workers and job processes included. Linux only (/proc).
 */
export async function measureCommand(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  const start = performance.now();
  const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
  let tree = 0;
  let single = 0;
  const sample = () => {
    if (child.pid === undefined) return;
    let sum = 0;
    for (const pid of processTree(child.pid)) {
      sum += statusKB(pid, 'VmRSS');
      single = Math.max(single, statusKB(pid, 'VmHWM'));
    }
    tree = Math.max(tree, sum);
  };
  const timer = setInterval(sample, 50);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearInterval(timer);
  return { name, code, seconds: (performance.now() - start) / 1000, peakTreeRssMB: Math.round(tree / 1024), peakProcessRssMB: Math.round(single / 1024) };
}

/** Document `i` with `text` and every core column filled as a crawled page's would be (the shard benches' rows). */
export function crawledDoc(i: number, text: string): Doc {
  return {
    id: `doc-${i}`,
    url: `https://example.org/${i % 97}/page-${i}.html`,
    source: `CC-MAIN-2024-22/segment-${i % 13}.warc.gz@${i * 9173}`,
    fetched_at: Date.UTC(2024, 4, 1 + (i % 28)),
    content_type: 'text/html',
    text,
    lang: 'en',
    lang_score: 0.9 + (i % 10) / 100,
  };
}
