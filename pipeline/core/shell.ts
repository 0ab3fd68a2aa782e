/** A word as a POSIX shell needs it typed: bare when it has only safe characters, else in single quotes. */
export const shellWord = (word: string): string => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);
