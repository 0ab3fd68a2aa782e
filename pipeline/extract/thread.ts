/**
 * The extraction worker thread: pages come in as messages, text goes out. Running here,
 * a page that takes too long can be stopped (the thread is terminated) without stalling
 * the stage's process.
 */
import { parentPort } from 'node:worker_threads';
import { errorMessage } from '../core/errors.js';
import { extractHtml, type ExtractOptions } from './readable.js';

export interface ThreadRequest {
  id: number;
  html: string;
  url: string | null;
  options: ExtractOptions;
}

parentPort?.on('message', (req: ThreadRequest) => {
  try {
    parentPort?.postMessage({ id: req.id, ok: true, result: extractHtml(req.html, req.url, req.options) });
  } catch (err) {
    parentPort?.postMessage({ id: req.id, ok: false, error: errorMessage(err) });
  }
});
