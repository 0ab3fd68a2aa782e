/**
 * DESIGN.md's boundaries that a grep can check: core imports no other folder of the project
 * (it knows no stage, command line or trainer), and text, the small shared helper package,
 * imports only core, so the two never import each other.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STAGE_MODULE_NAMES, loadStage } from '../pipeline/stage-modules.js';
import { STAGES } from '../pipeline/stages.js';

const root = join(import.meta.dirname, '..', 'pipeline');

/** The project folders (pipeline/<name>, trainer, ...) a folder's files import from outside it. */
function importsOutside(folder: string): Record<string, string[]> {
  const found: Record<string, string[]> = {};
  for (const file of readdirSync(join(root, folder)).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(root, folder, file), 'utf8');
    for (const m of text.matchAll(/(?:from|import\()\s*'(\.\.\/[^']+)'/g)) (found[file] ??= []).push(m[1]);
  }
  return found;
}

describe('package boundaries', () => {
  it('core imports nothing from the rest of the project', () => {
    expect(importsOutside('core')).toEqual({});
  });
  it('text imports only core', () => {
    const outside = Object.values(importsOutside('text')).flat();
    expect(outside.filter((p) => !p.startsWith('../core/'))).toEqual([]);
  });
});

describe('stage modules', () => {
  it('pool workers load every registered stage, the same object, from its own module', async () => {
    expect([...STAGE_MODULE_NAMES].sort()).toEqual(STAGES.map((s) => s.name).sort());
    for (const stage of STAGES) expect(await loadStage(stage.name)).toBe(stage);
  });
});
