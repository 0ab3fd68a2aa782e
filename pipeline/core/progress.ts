/**
 * Progress of a stage run: a live bar on a terminal, a plain line every few seconds
 * otherwise (so CI logs stay readable), nothing when switched off.
 */
import { performance } from 'node:perf_hooks';

export type ProgressMode = 'auto' | 'bar' | 'log' | 'off';

const fmt = new Intl.NumberFormat('en-US');

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

export function formatCount(n: number): string {
  return fmt.format(n);
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (x: number) => String(x).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

export class Progress {
  private readonly started = performance.now();
  private readonly mode: Exclude<ProgressMode, 'auto'>;
  private docs = 0;
  private bytes = 0;
  private done = 0;
  private failed = 0;
  private timer: NodeJS.Timeout | null = null;
  private lineShown = false;

  constructor(
    private readonly label: string,
    private readonly total: number,
    mode: ProgressMode = 'auto',
    private readonly stream: NodeJS.WriteStream = process.stderr,
    logEverySeconds = Number(process.env.REFINERY_LOG_INTERVAL ?? 10),
  ) {
    this.mode = mode === 'auto' ? (stream.isTTY ? 'bar' : 'log') : mode;
    if (this.mode === 'bar') this.timer = setInterval(() => this.render(), 200);
    if (this.mode === 'log') this.timer = setInterval(() => this.log(), Math.max(1, logEverySeconds) * 1000);
    this.timer?.unref();
  }

  add(docs: number, bytes: number): void {
    this.docs += docs;
    this.bytes += bytes;
  }

  taskDone(): void {
    this.done++;
  }

  taskFailed(): void {
    this.failed++;
  }

  /** Print a message (warnings, retries: shown even with progress off) without tearing the bar. */
  message(text: string): void {
    this.clear();
    this.stream.write(`${text}\n`);
  }

  private status(): string {
    const secs = (performance.now() - this.started) / 1000;
    const finished = this.done + this.failed;
    const eta = finished > 0 ? (secs / finished) * (this.total - finished) : Number.NaN;
    const rate = (n: number) => (secs > 0 ? n / secs : 0);
    return [
      `${finished}/${this.total} tasks${this.failed ? ` (${this.failed} failed)` : ''}`,
      `${formatCount(this.docs)} docs`,
      `${formatCount(Math.round(rate(this.docs)))} docs/s`,
      `${formatBytes(rate(this.bytes))}/s`,
      `elapsed ${formatDuration(secs)}`,
      finished < this.total ? `ETA ${formatDuration(eta)}` : '',
    ]
      .filter(Boolean)
      .join('  ');
  }

  private render(): void {
    const width = 24;
    const frac = this.total > 0 ? (this.done + this.failed) / this.total : 1;
    const filled = Math.round(frac * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const line = `${this.label} ${bar} ${this.status()}`;
    const cols = this.stream.columns ?? 120;
    this.stream.write(`\r${line.slice(0, cols - 1)}\x1b[K`);
    this.lineShown = true;
  }

  private log(): void {
    this.stream.write(`[${this.label}] ${this.status()}\n`);
  }

  private clear(): void {
    if (this.lineShown) {
      this.stream.write('\r\x1b[K');
      this.lineShown = false;
    }
  }

  finish(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.mode === 'bar') {
      this.render();
      this.stream.write('\n');
      this.lineShown = false;
    }
  }
}
