/** Files of one entry per line (seeds, blocklists, path listings): `#` starts a comment, blank lines are skipped. */
import { readFileSync } from 'node:fs';
import { UserError, errorMessage } from './errors.js';

export interface ListEntry {
  /** 1-based, for messages that point at the line. */
  line: number;
  value: string;
}

export function readListFile(file: string, what: string): ListEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`${file}: cannot read the ${what} (${errorMessage(err)})`);
  }
  const entries: ListEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const value = raw.replace(/#.*/, '').trim();
    if (value) entries.push({ line: i + 1, value });
  });
  return entries;
}
