/**
 * The Python reference extractors (resiliparse, readability-lxml) on the same pages as ours,
 * when an interpreter here has them; null (with the reason) when none does.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REFERENCE_ENGINES = { resiliparse: 'resiliparse', 'readability-lxml': 'readability' } as const;
export type ReferenceEngine = keyof typeof REFERENCE_ENGINES;

const script = fileURLToPath(new URL('../../bench/reference-extractors.py', import.meta.url));

function interpreter(module: string): string | null {
  for (const python of [process.env.REFINERY_PYTHON, 'python3', '/usr/bin/python3']) {
    if (python && spawnSync(python, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0) return python;
  }
  return null;
}

export function referenceExtract(engine: ReferenceEngine, pages: readonly string[]): { texts: string[]; seconds: number } | { missing: string } {
  const python = interpreter(REFERENCE_ENGINES[engine]);
  if (!python) return { missing: `${engine} is not installed (${engine === 'resiliparse' ? 'pip install --no-deps resiliparse' : 'apt-get install python3-readability'})` };
  const input = pages.map((html) => JSON.stringify({ html })).join('\n');
  const r = spawnSync(python, [script, engine], { input, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) return { missing: `${engine} failed: ${r.stderr.trim().split('\n').pop()}` };
  const texts = r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text);
  return { texts, seconds: Number(r.stderr.trim().split('\n').pop()) };
}
