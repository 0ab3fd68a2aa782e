/**
 * Per-language settings of the quality rules (FineWeb-2's approach): stop words and the
 * thresholds that depend on how a language writes, read from a table (the shipped
 * configs/languages.yaml, or --languages-file). Each entry names the options it changes;
 * everything else keeps the run's value. English (and a document of no known language)
 * keeps the run's options exactly, so English verdicts never move.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { loadYaml, parseOptions } from '../core/config.js';
import { primaryLanguage } from '../text/words.js';
import { heuristicOptions, type HeuristicConfig } from './heuristics.js';

/** What an entry may set: any rule option (the thresholds), plus who it is. */
const entrySchema = heuristicOptions
  .partial()
  .extend({
    name: z.string(),
    /** FineWeb-2's config the published figures come from (e.g. por_Latn). */
    fineweb2: z.string().optional(),
    /** Other codes the language goes by (ISO 639-3, macrolanguage members: cmn -> zh). */
    aliases: z.array(z.string()).optional(),
  })
  .strict();
export type LanguageEntry = z.infer<typeof entrySchema>;

const tableSchema = z
  .object({
    /** A language with no entry of its own. */
    default: entrySchema,
    languages: z.record(z.string(), entrySchema),
  })
  .strict();
export type LanguageTable = z.infer<typeof tableSchema>;

/** The settings a document is judged by. */
export interface LanguageSettings {
  /** The document's language (primary subtag), or null when it has none. */
  lang: string | null;
  /** Which table entry gave the settings: a language code, "default", or "english" for the run's own options. */
  entry: string;
  /** Human-readable: "pt (Portuguese; FineWeb-2 por_Latn)". */
  label: string;
  config: HeuristicConfig;
}

/** The shipped table: configs/languages.yaml above this module (source or dist). */
export function shippedTable(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const file = join(dir, 'configs', 'languages.yaml');
    if (existsSync(file)) return file;
    dir = dirname(dir);
  }
  throw new Error('configs/languages.yaml not found above pipeline/quality');
}

const tables = new Map<string, { table: LanguageTable; byCode: Map<string, string> }>();

export function loadLanguageTable(file = shippedTable()): { table: LanguageTable; byCode: Map<string, string> } {
  let t = tables.get(file);
  if (!t) {
    const table = parseOptions(tableSchema, loadYaml(file), file);
    const byCode = new Map<string, string>();
    for (const [code, e] of Object.entries(table.languages)) {
      byCode.set(code, code);
      for (const a of e.aliases ?? []) byCode.set(a, code);
    }
    t = { table, byCode };
    tables.set(file, t);
  }
  return t;
}

const META = new Set(['name', 'fineweb2', 'aliases']);

/** The settings for a document in `lang` (as the extract stage's lang column gives it). */
export function settingsFor(lang: string | null | undefined, config: HeuristicConfig & { by_language?: boolean; languages_file?: string }): LanguageSettings {
  const code = lang ? primaryLanguage(lang) : null;
  if (!code || code === 'en' || code === 'eng' || config.by_language === false) {
    return { lang: code, entry: 'english', label: code ? `${code} (the run's options${code === 'en' ? '' : ': --by-language off'})` : "unknown (the run's options)", config };
  }
  const { table, byCode } = loadLanguageTable(config.languages_file);
  const key = byCode.get(code);
  const entry = key ? table.languages[key] : table.default;
  const merged: Record<string, unknown> = { ...config };
  for (const [k, v] of Object.entries(entry)) if (!META.has(k) && v !== undefined) merged[k] = v;
  const source = entry.fineweb2 ? `; FineWeb-2 ${entry.fineweb2}` : '';
  return {
    lang: code,
    entry: key ?? 'default',
    label: key ? `${code} (${entry.name}${source})` : `${code} (no entry: the table's default, ${entry.name})`,
    config: merged as HeuristicConfig,
  };
}
