/**
 * Extraction with a time budget. The fast engine is linear and checks its deadline inside
 * the pass, so it runs in this thread. Readability is synchronous and can stall, so there a
 * budget can only be kept from outside: each page goes to a worker thread, and a thread
 * that overruns is terminated and replaced. Without the compiled thread script (tests
 * running from sources) Readability runs in-process and the budget is checked after the fact.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { errorMessage } from '../core/errors.js';
import { extractFast } from './fast/index.js';
import { ExtractionTimeout } from './fast/tree.js';
import { extractHtml, type ExtractOptions, type Extracted } from './readable.js';

/** The extraction engines: `fast` (typed-array tree, ./fast) and `readability` (Readability on linkedom). */
export const ENGINES = ['fast', 'readability'] as const;
export type Engine = (typeof ENGINES)[number];

export type Outcome = { ok: true; result: Extracted } | { ok: false; reason: 'extraction-timeout' | 'extraction-failed'; detail: string };

interface Reply {
  id: number;
  ok: boolean;
  result?: Extracted;
  error?: string;
}

const threadScript = fileURLToPath(new URL('./thread.js', import.meta.url));

/**
 * The thread's heap bound. linkedom documents are many small objects: with V8's default
 * bound (a few GB here) the heap grows until full collections stall extraction (about 4x
 * slower after 1,000 pages); at 512 MB it stays fast, and a page that needs more is stopped
 * (the thread dies, the page is excluded with its reason, a new thread takes over).
 */
const HEAP_MB = 512;

export class Extractor {
  private worker: Worker | null = null;
  private nextId = 0;
  private readonly inThread = existsSync(threadScript);

  constructor(
    private readonly options: ExtractOptions,
    private readonly engine: Engine = 'readability',
  ) {}

  async extract(html: string, url: string | null, budgetMs: number): Promise<Outcome> {
    if (this.engine === 'fast') return this.fast(html, budgetMs);
    if (!this.inThread) {
      const started = performance.now();
      try {
        const result = extractHtml(html, url, this.options);
        const ms = performance.now() - started;
        return ms > budgetMs ? { ok: false, reason: 'extraction-timeout', detail: `took ${Math.round(ms)} ms > ${budgetMs} ms` } : { ok: true, result };
      } catch (err) {
        return { ok: false, reason: 'extraction-failed', detail: errorMessage(err) };
      }
    }
    const worker = (this.worker ??= new Worker(threadScript, { resourceLimits: { maxOldGenerationSizeMb: HEAP_MB } }));
    const id = this.nextId++;
    return new Promise<Outcome>((resolve) => {
      const done = (outcome: Outcome) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        resolve(outcome);
      };
      const onMessage = (reply: Reply) => {
        if (reply.id !== id) return;
        done(reply.ok ? { ok: true, result: reply.result as Extracted } : { ok: false, reason: 'extraction-failed', detail: reply.error ?? 'unknown error' });
      };
      const onError = (err: Error) => {
        this.worker = null;
        done({ ok: false, reason: 'extraction-failed', detail: `extraction thread died: ${err.message}` });
      };
      const timer = setTimeout(() => {
        this.worker = null;
        void worker.terminate();
        done({ ok: false, reason: 'extraction-timeout', detail: `stopped after ${budgetMs} ms` });
      }, budgetMs);
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.postMessage({ id, html, url, options: this.options });
    });
  }

  private fast(html: string, budgetMs: number): Outcome {
    const started = performance.now();
    try {
      return { ok: true, result: extractFast(html, this.options, started + budgetMs) };
    } catch (err) {
      if (err instanceof ExtractionTimeout) return { ok: false, reason: 'extraction-timeout', detail: `stopped after ${budgetMs} ms (${err.message})` };
      return { ok: false, reason: 'extraction-failed', detail: errorMessage(err) };
    }
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
    this.worker = null;
  }
}
