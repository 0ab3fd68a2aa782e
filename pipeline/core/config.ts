/**
 * Stage options are declared once, as a zod object with snake_case keys and a
 * description per key. From that one declaration come the YAML keys, the CLI flags
 * (`min_chars` <-> `--min-chars`), `--help`, validation with clear messages, and the
 * config hash recorded in every shard.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { lazyPackage } from './lazy-package.js';
import * as z from 'zod';
import { UserError, errorMessage } from './errors.js';

const yaml = lazyPackage<typeof import('yaml')>('yaml');

export type OptionKind = 'string' | 'number' | 'boolean' | 'enum' | 'list';

export interface OptionInfo {
  key: string;
  flag: string;
  kind: OptionKind;
  description: string;
  choices?: string[];
  default?: unknown;
  required: boolean;
  /** What the flag's value is, as --help shows it (`--checkpoint <dir>`): the schema's `.meta({ value })`. */
  value?: string;
}

export const flagOf = (key: string) => `--${key.replace(/_/g, '-')}`;
export const keyOf = (flag: string) => flag.replace(/^--/, '').replace(/-/g, '_');

interface ZodDefLike {
  type: string;
  innerType?: z.ZodType;
  defaultValue?: unknown;
  entries?: Record<string, string>;
  element?: z.ZodType;
  in?: z.ZodType;
}

const defOf = (t: z.ZodType) => (t as unknown as { def: ZodDefLike }).def;

function baseKind(t: z.ZodType): { kind: OptionKind; choices?: string[] } {
  const def = defOf(t);
  switch (def.type) {
    case 'string':
      return { kind: 'string' };
    case 'number':
    case 'int':
      return { kind: 'number' };
    case 'boolean':
      return { kind: 'boolean' };
    case 'enum':
      return { kind: 'enum', choices: Object.values(def.entries ?? {}) };
    case 'array':
      return { kind: 'list' };
    case 'pipe':
      // z.union(...).pipe(...) / preprocess: described by what it accepts on input.
      return def.in ? baseKind(def.in) : { kind: 'string' };
    case 'union':
      return { kind: 'string' };
    default:
      throw new Error(`option type "${def.type}" has no command-line form`);
  }
}

/** Flags, kinds, defaults and help of a stage's option schema. */
export function describeOptions(schema: z.ZodObject): OptionInfo[] {
  return Object.entries(schema.shape).map(([key, field]) => {
    let t = field as z.ZodType;
    let required = true;
    let dflt: unknown;
    let value: string | undefined;
    for (;;) {
      value ??= z.globalRegistry.get(t)?.value as string | undefined;
      const def = defOf(t);
      if (def.type === 'default' || def.type === 'prefault') {
        dflt = def.defaultValue;
        required = false;
      } else if (def.type === 'optional') {
        required = false;
      } else break;
      t = def.innerType as z.ZodType;
    }
    return {
      key,
      flag: flagOf(key),
      ...baseKind(t),
      description: field.description ?? t.description ?? '',
      default: dflt,
      required,
      value,
    };
  });
}

function describeIssue(issue: z.core.$ZodIssue, schema: z.ZodObject | undefined, prefix: string): string {
  const path = issue.path.map(String).join('.');
  const at = (key: string) => (prefix ? `${prefix}.${key}` : key);
  if (issue.code === 'unrecognized_keys') {
    const allowed = schema && issue.path.length === 0 ? Object.keys(schema.shape).join(', ') : '';
    return issue.keys
      .map((k) => `unknown key "${at(k)}"${allowed ? ` (allowed: ${allowed})` : ''}`)
      .join('; ');
  }
  const where = path ? `"${at(path)}"` : prefix ? `"${prefix}"` : 'config';
  return `${where}: ${issue.message}`;
}

/**
 * Validate raw options (from YAML or flags); on failure a UserError naming each bad key
 * and what it allows. `where` names the source ("pipeline.yaml: stages[1] (import)").
 */
export function parseOptions<S extends z.ZodType>(schema: S, raw: unknown, where: string, prefix = ''): z.infer<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const obj = schema instanceof z.ZodObject ? schema : undefined;
  const details = result.error.issues.map((i) => describeIssue(i, obj, prefix)).join('; ');
  throw new UserError(`${where}: ${details}`);
}

/** Stable hash of a config: the same options always give the same hash, whatever the key order. */
export function configHash(config: unknown): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex').slice(0, 16);
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function loadYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`${file}: cannot read (${errorMessage(err)})`);
  }
  try {
    return yaml().parse(text) ?? {};
  } catch (err) {
    if (err instanceof yaml().YAMLParseError) {
      const pos = err.linePos?.[0];
      throw new UserError(`${file}${pos ? `:${pos.line}:${pos.col}` : ''}: invalid YAML (${err.message.split('\n')[0]})`);
    }
    throw err;
  }
}

/** A YAML file of options (`--config`, a train or sweep config): a mapping of keys to values; an empty file has none. */
export function loadConfigFile(file: string): Record<string, unknown> {
  const raw = loadYaml(file);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`${file}: expected a mapping of options`);
  return raw as Record<string, unknown>;
}

/**
 * A command's options from its YAML file (when given) with its flags on top, validated: what
 * `refinery train config.yaml --steps 10` and the other file-or-flags commands do. Errors name
 * the file, or `command` when there is none.
 */
export function parseFileAndFlags<S extends z.ZodType>(schema: S, file: string | undefined, flags: Record<string, unknown>, command: string): z.infer<S> {
  return parseOptions(schema, { ...(file ? loadConfigFile(file) : {}), ...flags }, file ?? command);
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1 << 20, g: 1e9, gb: 1e9, gib: 1 << 30 };

/** A byte size given as a number or as "256MB", "1GiB", ... */
export const byteSize = () =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    if (typeof v === 'number') return v;
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v);
    const unit = m ? SIZE_UNITS[m[2].toLowerCase()] : undefined;
    if (!m || unit === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a size such as 512MB or 1GiB, got "${v}"` });
      return z.NEVER;
    }
    return Math.round(Number(m[1]) * unit);
  });

/** A share written as a percentage ("10%", "0.5%"), kept as written; `shareOf` reads it. */
export const percentage = () =>
  z
    .string()
    .regex(/^\d+(\.\d+)?%$/, 'expected a percentage such as 10%')
    .refine((p) => shareOf(p) <= 1, 'expected at most 100%');
export const shareOf = (p: string) => Number(p.slice(0, -1)) / 100;
