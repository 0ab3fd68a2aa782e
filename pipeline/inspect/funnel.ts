/**
 * The funnel across stage outputs: per stage, documents and bytes in, kept and
 * excluded by each filter, recomputed from the per-task stats (not trusted from the
 * manifest), with the accounting invariant checked on the way.
 */
import { existsSync } from 'node:fs';
import { UserError } from '../core/errors.js';
import { readManifest } from '../core/executor.js';
import { formatBytes, formatCount } from '../core/progress.js';
import { accountingViolations, readTaskStats, sumStats, type DocCounts, type StepTotals } from '../core/stats.js';

export interface FunnelStage extends DocCounts {
  dir: string;
  stage: string;
  tasks: number;
  tasks_done: number;
  problems: number;
  /** Steps that dropped documents or may drop them (filters and the reader). */
  steps: StepTotals[];
  accounting: 'ok' | string[];
}

export function funnelOf(dirs: readonly string[]): FunnelStage[] {
  return dirs.map((dir) => {
    if (!existsSync(dir)) throw new UserError(`${dir}: no such directory`);
    const manifest = readManifest(dir);
    if (!manifest) throw new UserError(`${dir}: not a stage output (no _manifest.json)`);
    const all = readTaskStats(dir);
    const totals = sumStats(all);
    const violations = all.flatMap(accountingViolations);
    return {
      dir,
      stage: manifest.stage,
      tasks: manifest.tasks,
      tasks_done: all.length,
      docs_in: totals.docs_in,
      docs_kept: totals.docs_kept,
      docs_excluded: totals.docs_excluded,
      bytes_in: totals.bytes_in,
      bytes_kept: totals.bytes_kept,
      bytes_excluded: totals.bytes_excluded,
      problems: totals.problems,
      counters: totals.counters,
      seconds: totals.seconds,
      steps: totals.steps.filter((s) => s.kind === 'filter' || s.kind === 'read' || s.dropped > 0),
      accounting: violations.length ? violations : 'ok',
    };
  });
}

const pct = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '-');

/** A plain-text table: one row per stage, then one row per filter with what it excluded. */
export function funnelTable(funnel: readonly FunnelStage[]): string {
  const header = ['stage', 'output', 'tasks', 'docs in', 'kept', 'excluded', 'share', 'bytes in', 'bytes kept', ''];
  const rows: string[][] = [header];
  for (const f of funnel) {
    rows.push([
      f.stage,
      f.dir,
      f.tasks_done === f.tasks ? String(f.tasks) : `${f.tasks_done}/${f.tasks}`,
      formatCount(f.docs_in),
      formatCount(f.docs_kept),
      formatCount(f.docs_excluded),
      pct(f.docs_kept, f.docs_in),
      formatBytes(f.bytes_in),
      formatBytes(f.bytes_kept),
      '',
    ]);
    for (const s of f.steps) {
      const reasons = Object.entries(s.reasons)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 4)
        .map(([r, n]) => `${r} ${formatCount(n)}`)
        .join(', ');
      rows.push(['', `  ${s.name}`, '', formatCount(s.in), formatCount(s.out), formatCount(s.dropped), s.dropped ? `-${pct(s.dropped, s.in)}` : '', '', s.dropped ? `-${formatBytes(s.bytes_dropped)}` : '', reasons]);
    }
  }
  const numeric = (c: number) => c >= 2 && c <= 8;
  const widths = header.map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const lines = rows.map((r) => r.map((cell, c) => (numeric(c) ? cell.padStart(widths[c]) : cell.padEnd(c === r.length - 1 ? 0 : widths[c]))).join('  ').trimEnd());
  const skipped = funnel
    .map((f) => [f, Object.entries(f.counters).filter(([k]) => k.startsWith('skipped:'))] as const)
    .filter(([, entries]) => entries.length > 0)
    .map(([f, entries]) => `${f.dir}: records that are not documents: ${entries.sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k.slice(8)} ${formatCount(n)}`).join(', ')}`);
  // Other counted things, by group ("c4 lines removed:no-terminal-punctuation" -> group "c4 lines removed").
  const QUIET = ['skipped', 'records', 'http'];
  const counted = funnel.flatMap((f) => {
    const groups = new Map<string, [string, number][]>();
    for (const [key, n] of Object.entries(f.counters)) {
      const at = key.lastIndexOf(':');
      const group = key.slice(0, at);
      if (at <= 0 || QUIET.includes(group)) continue;
      groups.set(group, [...(groups.get(group) ?? []), [key.slice(at + 1), n]]);
    }
    return [...groups].map(([group, entries]) => `${f.dir}: ${group}: ${entries.sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${formatCount(n)}`).join(', ')}`);
  });
  const problems = funnel.filter((f) => f.problems > 0).map((f) => `${f.dir}: ${formatCount(f.problems)} damaged input spots (see _stats)`);
  const broken = funnel.filter((f) => f.accounting !== 'ok').map((f) => `${f.dir}: ACCOUNTING BROKEN: ${(f.accounting as string[]).join('; ')}`);
  return [...lines, ...skipped, ...counted, ...problems, ...broken].join('\n');
}
