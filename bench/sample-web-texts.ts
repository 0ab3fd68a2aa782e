/** The sample web's gold page texts, for benchmarks that need realistic web documents without ../shared. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSampleWeb } from '../datasets/sample-web/index.js';

export function sampleWebTexts(pages = 2000, seed = 1): string[] {
  const web = mkdtempSync(join(tmpdir(), 'refinery-bench-web-'));
  try {
    buildSampleWeb({ out: web, pages, seed });
    const texts: string[] = [];
    for (const line of readFileSync(join(web, 'pages.jsonl'), 'utf8').trim().split('\n')) {
      const text = (JSON.parse(line) as { text: string | null }).text;
      if (text) texts.push(text);
    }
    return texts;
  } finally {
    rmSync(web, { recursive: true, force: true });
  }
}
