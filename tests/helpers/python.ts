/**
 * Python readers for tests that check our files with the tools users read them with
 * (pyarrow, DuckDB, numpy). Without python3 or a module the tests skip with the reason,
 * except under CI, where .ci/run installs them: there a missing module is an error.
 */
import { spawnSync } from 'node:child_process';

/** Why the modules cannot be used here, or null when they can. */
export function pythonMissing(modules: readonly string[]): string | null {
  const r = spawnSync('python3', ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' });
  const reason = r.error ? 'python3 is not installed' : r.status !== 0 ? `python3 lacks ${modules.join(', ')} (pip install ${modules.join(' ')})` : null;
  if (reason && process.env.CI === 'true') throw new Error(`${reason}; CI=true: .ci/run installs them`);
  return reason;
}

/** Run a Python script with arguments (sys.argv[1:]) and parse the JSON it prints. */
export function python<T>(script: string, args: readonly string[] = []): T {
  const r = spawnSync('python3', ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`python3 failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
