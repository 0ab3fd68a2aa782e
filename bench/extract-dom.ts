/**
 * Bench `extract-dom`: which DOM to run Readability on. Each candidate runs the same pages
 * (AEB + trafilatura eval from ../shared/data) in its own process: pages/s, failures, peak
 * memory, and agreement with linkedom's text.
 *
 *   npm run bench -- extract-dom [--pages 300]
 */
import { createHash } from 'node:crypto';
import { Readability } from '@mozilla/readability';
import { Window } from 'happy-dom';
import { JSDOM, VirtualConsole } from 'jsdom';
import { parseHTML } from 'linkedom';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aebPages, trafilaturaPages } from './extraction-data.js';
import { arg, isolated, report } from './harness.js';

type Dom = (html: string) => { document: unknown; close(): void };

const DOMS: Record<string, Dom> = {
  linkedom: (html) => ({ document: parseHTML(html).document, close: () => {} }),
  jsdom: (html) => {
    const dom = new JSDOM(html, { url: 'https://example.org/', virtualConsole: new VirtualConsole() });
    return { document: dom.window.document, close: () => dom.window.close() };
  },
  'happy-dom': (html) => {
    const window = new Window({ url: 'https://example.org/', settings: { disableJavaScriptEvaluation: true, disableCSSFileLoading: true, disableJavaScriptFileLoading: true } });
    window.document.write(html);
    return { document: window.document, close: () => void window.happyDOM.close() };
  },
};

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

export async function main(args: string[]): Promise<void> {
  const limit = Number(arg(args, 'pages', '300'));
  const pages = [...aebPages(), ...trafilaturaPages()].slice(0, limit).map((p) => p.html);
  const bytes = pages.reduce((n, p) => n + Buffer.byteLength(p), 0);
  const hashes = process.env.BENCH_DOM_HASHES ?? join(tmpdir(), `refinery-extract-dom-${process.pid}`);
  const phases = Object.fromEntries(
    Object.entries(DOMS).map(([name, dom]) => [
      name,
      () => {
        let failures = 0;
        const texts: string[] = [];
        for (const html of pages) {
          try {
            const d = dom(html);
            texts.push(squash(new Readability(d.document as never).parse()?.textContent ?? ''));
            d.close();
          } catch {
            failures++;
            texts.push('');
          }
        }
        writeFileSync(`${hashes}-${name}`, JSON.stringify({ failures, texts: texts.map((t) => createHash('sha1').update(t).digest('hex')) }));
        return { bytes, docs: pages.length };
      },
    ]),
  );
  const results = await isolated('extract-dom', args, phases, { BENCH_DOM_HASHES: hashes });
  if (!results) return;
  console.log(`extract-dom: Readability on three DOMs, ${pages.length} pages, ${(bytes / 1e6).toFixed(1)} MB`);
  report(results);
  const read = (name: string) => (existsSync(`${hashes}-${name}`) ? (JSON.parse(readFileSync(`${hashes}-${name}`, 'utf8')) as { failures: number; texts: string[] }) : null);
  const base = read('linkedom');
  for (const name of Object.keys(DOMS)) {
    const r = read(name);
    if (!r || !base) continue;
    const same = r.texts.filter((h, i) => h === base.texts[i]).length;
    console.log(`${name.padEnd(10)} failures ${r.failures}, same text as linkedom on ${same}/${pages.length} pages`);
  }
}
