/**
 * A result file a command writes and a rerun replaces (a report, an evaluation's results) is
 * refinery's to overwrite only when it is an earlier result of the same kind: the path is refused
 * when it is a directory, one of the command's inputs (or inside one), or a file the command did
 * not write (refinery never overwrites what it did not write).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { UserError } from './errors.js';

export interface ResultFile {
  /** How the path was given, for the message: e.g. `decontaminate report: -o out.json`. */
  given: string;
  /** What an earlier result is, for the message: e.g. `a contamination report`. */
  what: string;
  /** Whether the existing file's text is an earlier result of this kind. */
  ours: (text: string) => boolean;
}

export function refuseForeignFile(out: string, reads: readonly string[], f: ResultFile): void {
  if (!existsSync(out)) return;
  const why = (reason: string) => new UserError(`${f.given} ${reason}; choose another path`);
  if (statSync(out).isDirectory()) throw why('is a directory');
  if (reads.some((r) => resolve(r) === resolve(out) || resolve(out).startsWith(`${resolve(r)}${sep}`))) throw why('is one of the inputs');
  let ours = false;
  try {
    ours = f.ours(readFileSync(out, 'utf8'));
  } catch {
    // unreadable or not what we write: not ours
  }
  if (!ours) throw why(`holds a file that is not ${f.what}`);
}

/** `ours` for a JSON result recognised by its shape. */
export const jsonWith =
  (isOurs: (value: Record<string, unknown>) => boolean) =>
  (text: string): boolean => {
    const v = JSON.parse(text) as unknown;
    return !!v && typeof v === 'object' && isOurs(v as Record<string, unknown>);
  };
