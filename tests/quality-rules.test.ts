/**
 * Every heuristic rule at its threshold: a crafted document just inside gives "pass", one
 * just outside gives "fail", with the published default thresholds.
 */
import { describe, expect, it } from 'vitest';
import { Random } from '../pipeline/core/random.js';
import type { TaskContext } from '../pipeline/core/stage.js';
import { c4Quality, finewebQuality, gopherQuality, gopherRepetition, heuristicOptions, judge, RULE_FAMILIES, type RuleCheck } from '../pipeline/quality/heuristics.js';
import { qualityOptions, qualityStage } from '../pipeline/quality/index.js';
import { sentences, TextView, tokenize } from '../pipeline/quality/text-view.js';

const C = heuristicOptions.parse({});
const random = new Random(7);
/** A fresh lower-case word (letters only), never repeated in practice. */
const word = (length = 6) => Array.from({ length }, () => String.fromCharCode(97 + random.int(0, 25))).join('');
const words = (n: number, length = 6) => Array.from({ length: n }, () => word(length)).join(' ');
/** `text` followed by fresh words until it is exactly `total` characters long. */
function padTo(text: string, total: number): string {
  let out = text;
  while (total - out.length > 8) out += ` ${word(6)}`;
  const left = total - out.length;
  if (left === 1) throw new Error('cannot pad by one character');
  if (left > 1) out += ` ${word(left - 1)}`;
  expect(out.length).toBe(total);
  return out;
}

function rule(checks: Iterable<RuleCheck>, name: string): RuleCheck {
  const found = [...checks].find((c) => c.rule === name);
  if (!found) throw new Error(`no check ${name}`);
  return found;
}
const gq = (text: string, name: string) => rule(gopherQuality(new TextView(text), C), name);
const gr = (text: string, name: string) => rule(gopherRepetition(new TextView(text), C), name);
const fw = (text: string, name: string) => rule(finewebQuality(new TextView(text), C), name);
/** Inside and outside a threshold: the first passes, the second fails. */
function edge(check: (text: string) => RuleCheck, inside: string, outside: string): void {
  const a = check(inside);
  const b = check(outside);
  expect(a.pass, `inside: ${a.rule} = ${a.value} (${a.limit})`).toBe(true);
  expect(b.pass, `outside: ${b.rule} = ${b.value} (${b.limit})`).toBe(false);
}

describe('tokenizer and sentences', () => {
  it('splits punctuation off words but keeps abbreviations, initialisms, numbers and contractions whole', () => {
    expect(tokenize('Mr. Smith, of the U.S.A., paid $5.50 at 13:10 -- didn\'t he... yes!')).toEqual([
      'Mr.', 'Smith', ',', 'of', 'the', 'U.S.A.', ',', 'paid', '$', '5.50', 'at', '13:10', '--', "didn't", 'he', '...', 'yes', '!',
    ]);
  });
  it('splits sentences, not at abbreviations, initials or before lower case', () => {
    expect(sentences('He met Mr. Smith at 5 p.m. today. Then he left! "Why?" she asked. J. Doe agreed.')).toEqual([
      'He met Mr. Smith at 5 p.m. today.',
      'Then he left!',
      '"Why?" she asked.',
      'J. Doe agreed.',
    ]);
  });
});

describe('Gopher quality rules', () => {
  const stop = 'the and ';
  it('too-few-words: at least 50 words that are not only symbols', () => {
    edge((t) => gq(t, 'too-few-words'), stop + words(48), stop + words(47));
    // Symbols do not count as words.
    expect(gq(`${stop}${words(47)} ! ? #`, 'too-few-words').pass).toBe(false);
  });
  it('too-many-words: at most 100,000', () => {
    edge((t) => gq(t, 'too-many-words'), 'word '.repeat(100_000), 'word '.repeat(100_001));
  });
  it('short-words / long-words: mean word length from 3 to 10', () => {
    edge((t) => gq(t, 'short-words'), Array(50).fill('abc').join(' '), `${Array(49).fill('abc').join(' ')} ab`);
    edge((t) => gq(t, 'long-words'), Array(50).fill('abcdefghij').join(' '), `${Array(49).fill('abcdefghij').join(' ')} abcdefghijk`);
  });
  it('too-many-hashes and too-many-ellipses: at most 0.1 per word (the marks are words too)', () => {
    edge((t) => gq(t, 'too-many-hashes'), `${words(90)} ${'# '.repeat(10)}`, `${words(89)} ${'# '.repeat(11)}`);
    edge((t) => gq(t, 'too-many-ellipses'), `${words(90)} ${'... '.repeat(10)}`, `${words(89)} ${'… '.repeat(11)}`);
  });
  it('too-many-bullet-lines: at most 90% of lines start with a bullet', () => {
    const lines = (bullets: number) => Array.from({ length: 20 }, (_, i) => `${i < bullets ? (i % 2 ? '- ' : '  • ') : ''}${words(5)}`).join('\n');
    edge((t) => gq(t, 'too-many-bullet-lines'), lines(18), lines(19));
  });
  it('too-many-ellipsis-lines: at most 30% of lines end with an ellipsis', () => {
    const lines = (n: number) => Array.from({ length: 100 }, (_, i) => `${words(3)}${i < n ? (i % 2 ? '...' : '… ') : '.'}`).join('\n');
    edge((t) => gq(t, 'too-many-ellipsis-lines'), lines(30), lines(31));
  });
  it('too-few-alpha-words: at least 80% of words hold a letter', () => {
    edge((t) => gq(t, 'too-few-alpha-words'), `${words(80)} ${'42 '.repeat(20)}`, `${words(79)} ${'42 '.repeat(21)}`);
  });
  it('too-few-stop-words: at least 2, in any case', () => {
    edge((t) => gq(t, 'too-few-stop-words'), `The ${words(50)} with`, `The ${words(50)} without`);
  });
});

describe('Gopher repetition rules', () => {
  it('dup-paragraphs: at most 30% of paragraphs repeat an earlier one', () => {
    const text = (dups: number) => [...Array.from({ length: 10 - dups }, () => words(5)), ...Array(dups).fill('same paragraph here')].join('\n\n');
    edge((t) => gr(t, 'dup-paragraphs'), text(4), text(5)); // 4 copies of one paragraph: 3 repeats of 10
  });
  it('dup-paragraph-chars: at most 20% of characters in repeated paragraphs', () => {
    const x = words(14, 6).slice(0, 97) + 'xyz'; // 100 characters
    expect(x.length).toBe(100);
    const doc = (unique: number) => `${x}\n\n${x}\n\n${padTo(word(5), unique)}`;
    edge((t) => gr(t, 'dup-paragraph-chars'), doc(296), doc(295)); // 100 / 500 vs 100 / 499
  });
  it('dup-lines: at most 30% of lines repeat an earlier one', () => {
    const text = (copies: number) => [...Array.from({ length: 10 - copies }, () => words(5)), ...Array(copies).fill('same line here')].join('\n');
    edge((t) => gr(t, 'dup-lines'), text(4), text(5));
  });
  it('dup-line-chars: at most 20% of characters in repeated lines', () => {
    const x = 'a'.repeat(50);
    const doc = (unique: number) => `${x}\n${x}\n${padTo(word(5), unique)}`;
    edge((t) => gr(t, 'dup-line-chars'), doc(148), doc(147)); // 50 / 250 vs 50 / 249
  });
  it('top-2/3/4-gram: the most frequent n-gram holds at most 20% / 18% / 16% of characters', () => {
    for (const [n, frac] of [[2, 0.2], [3, 0.18], [4, 0.16]] as const) {
      const gram = Array.from({ length: n }, (_, i) => 'abcdefgh'[i].repeat(2)).join(' '); // "aa bb", "aa bb cc", ...
      const repeated = Array(10).fill(gram).join(' ');
      // (characters of the n-gram) x 10 occurrences / length
      const need = Math.ceil((gram.length * 10) / frac);
      edge((t) => gr(t, `top-${n}-gram`), padTo(repeated, need), padTo(repeated, need - 2));
    }
  });
  it('dup-5..10-grams: characters in repeated n-grams at most 15% ... 10%', () => {
    const s = words(10, 4); // 10 words of 4 letters
    // Scanning S S: a repeat at the second S skips n words; what is found repeated (letters only):
    const found: Record<number, number> = { 5: 40, 6: 24, 7: 28, 8: 32, 9: 36, 10: 40 };
    const fracs = [0.15, 0.14, 0.13, 0.12, 0.11, 0.1];
    for (let n = 5; n <= 10; n++) {
      const need = Math.ceil(found[n] / fracs[n - 5]);
      const inside = padTo(`${s} ${s}`, need);
      expect(gr(inside, `dup-${n}-grams`).value * inside.length).toBeCloseTo(found[n], 6);
      edge((t) => gr(t, `dup-${n}-grams`), inside, padTo(`${s} ${s}`, need - 2));
    }
  });
  it('hashed n-gram measures equal the string definitions (datatrove: Counter of joined n-grams, set of seen ones)', () => {
    const vocabulary = Array.from({ length: 12 }, () => word(random.int(1, 5)));
    for (let doc = 0; doc < 60; doc++) {
      // few distinct words, so n-grams repeat, overlap and tie
      const ws = Array.from({ length: random.int(1, 400) }, () => vocabulary[random.int(0, doc % 2 ? 3 : 11)]);
      const text = ws.join(' ');
      for (const n of [2, 3, 4]) {
        const counts = new Map<string, number>();
        for (let k = 0; k + n <= ws.length; k++) counts.set(ws.slice(k, k + n).join(' '), (counts.get(ws.slice(k, k + n).join(' ')) ?? 0) + 1);
        let best = '';
        let most = 0;
        for (const [g, c] of counts) if (c > most) [best, most] = [g, c];
        if (counts.size) expect(gr(text, `top-${n}-gram`).value).toBeCloseTo((best.length * most) / text.length, 12);
      }
      for (let n = 5; n <= 10; n++) {
        const seen = new Set<string>();
    const removed: Record<string, number> = {};
        let chars = 0;
        for (let k = 0; k + n <= ws.length; ) {
          const g = ws.slice(k, k + n).join('');
          if (seen.has(g)) [chars, k] = [chars + g.length, k + n];
          else [k] = [k + 1, seen.add(g)];
        }
        expect(gr(text, `dup-${n}-grams`).value).toBeCloseTo(chars / text.length, 12);
      }
    }
  });
});

describe('C4 rules', () => {
  const sentence = () => `${words(6)[0].toUpperCase()}${words(6).slice(1)}.`;
  const good = (n: number) => Array.from({ length: n }, sentence).join('\n');
  it('keeps lines ending in terminal punctuation, with 3+ words and no word over 1,000 characters', () => {
    const text = [
      good(5),
      'No terminal punctuation here',
      'Ends in an ellipsis...',
      'Two words.',
      `A long ${'x'.repeat(1001)} word.`,
      `A fine ${'x'.repeat(1000)} word.`,
      'Please enable JavaScript to view this.',
      'This site uses cookies to work.',
      'Quoted lines count as ending "well."',
      "Also single quotes 'count'",
      'Citations go away[1] and [edit] too[citation needed].',
    ].join('\n');
    const r = c4Quality(text, C);
    expect(r.checks.every((x) => x.pass)).toBe(true);
    expect(r.removed).toEqual({ 'no-terminal-punctuation': 2, 'too-few-words': 1, 'too-long-word': 1, javascript: 1, policy: 1 });
    expect(r.text.split('\n')).toEqual([
      ...good(0).split('\n').filter(Boolean),
      ...text.split('\n').slice(0, 5),
      `A fine ${'x'.repeat(1000)} word.`,
      'Quoted lines count as ending "well."',
      "Also single quotes 'count'",
      'Citations go away and  too.',
    ]);
  });
  it('too-few-sentences: at least 5 after clean-up', () => {
    edge((t) => rule(c4Quality(t, C).checks, 'too-few-sentences'), good(5), `${good(4)}\nnot a sentence`);
    // Several sentences on one line count one by one.
    expect(rule(c4Quality('One two three. Four five six. Seven eight nine. Ten eleven twelve. Thirteen fourteen fifteen.', C).checks, 'too-few-sentences').value).toBe(5);
  });
  it('lorem-ipsum and curly-bracket drop the whole document', () => {
    edge((t) => rule(c4Quality(t, C).checks, 'lorem-ipsum'), good(6), `${good(6)}\nLorem ipsum dolor sit amet.`);
    edge((t) => rule(c4Quality(t, C).checks, 'curly-bracket'), good(6), `${good(6)}\nfunction f() { return 1; }.`);
  });
  it('each sub-rule can be switched off', () => {
    const c = heuristicOptions.parse({ c4_terminal_punct: false, c4_curly_bracket: false, c4_min_sentences: 0 });
    const r = c4Quality('no punctuation at all here\nfunction f() { return 1 }', c);
    expect(r.checks.every((x) => x.pass)).toBe(true);
    expect(r.text).toContain('{');
  });
});

describe('FineWeb rules', () => {
  const line = (end: string) => `${words(7)}${end}`;
  it('few-punctuated-lines: at least 12% of lines end in terminal punctuation (any script)', () => {
    const doc = (n: number) => Array.from({ length: 100 }, (_, i) => line(i < n ? ['.', '!', '?', '。'][i % 4] : '')).join('\n');
    edge((t) => fw(t, 'few-punctuated-lines'), doc(12), doc(11));
    const zero = heuristicOptions.parse({ fineweb_punct_exclude_zero: true });
    expect(rule(finewebQuality(new TextView(doc(0)), zero), 'few-punctuated-lines').pass).toBe(true);
  });
  it('many-short-lines: at most 67% of lines are 30 characters or shorter', () => {
    const short = () => padTo(word(5), 30);
    const long = () => padTo(word(5), 31);
    const doc = (n: number) => Array.from({ length: 100 }, (_, i) => (i < n ? short() : long())).join('\n');
    edge((t) => fw(t, 'many-short-lines'), doc(67), doc(68));
  });
  it('dup-line-chars: at most 1% of characters in repeated lines', () => {
    const x = 'b'.repeat(20);
    const doc = (rest: number) => `${x}\n${x}\n${padTo(word(5), rest)}`;
    edge((t) => fw(t, 'dup-line-chars'), doc(1960), doc(1959)); // 20 / 2000 vs 20 / 1999 (newlines not counted)
  });
  it('many-newlines: at most 0.3 newlines per word', () => {
    /** 100 words, the last `newlines` of them each on a line of its own. */
    const doc = (newlines: number) => [words(100 - newlines), ...Array.from({ length: newlines }, () => word(5))].join('\n');
    edge((t) => fw(t, 'many-newlines'), doc(30), doc(31));
    expect(fw(doc(30), 'many-newlines').value).toBe(0.3);
    expect(fw(doc(0), 'many-newlines').value).toBe(0);
  });
  it('no-lines: an empty text fails', () => {
    expect(fw('  \n \n', 'no-lines').pass).toBe(false);
  });
});

describe('judge', () => {
  it('runs the families in FineWeb order and stops at the first failure', () => {
    const text = `the ${words(45)} and`;
    const v = judge(text, C);
    expect(v.failed?.family).toBe('gopher-quality');
    expect(v.failed?.rule).toBe('too-few-words');
    expect(v.checks.at(-1)).toBe(v.failed);
    const all = judge(text, C, true);
    expect(new Set(all.checks.map((c) => c.family))).toEqual(new Set(['gopher-repetition', 'gopher-quality', 'c4', 'fineweb']));
    expect(all.checks.length).toBeGreaterThan(25);
  });
  it('passes an ordinary article', () => {
    const sentenceOf = () => `The ${words(4)} and the ${words(5)}, with ${words(3)}.`;
    const article = Array.from({ length: 8 }, () => Array.from({ length: 4 }, sentenceOf).join(' ')).join('\n\n');
    expect(judge(article, C).failed).toBeNull();
  });
});

describe('one registry of rule families', () => {
  const counts: Record<string, number> = {};
  const ctx: TaskContext = {
    task: { index: 0, path: 'in.arrow', rel: 'in.arrow' },
    reject() {},
    problem() {},
    count(name, n = 1) {
      counts[name] = (counts[name] ?? 0) + n;
    },
  };
  const stepsOf = async (options: Record<string, unknown>) => (await qualityStage.steps?.(qualityOptions.parse(options), [], ctx.task, ctx)) ?? [];

  it("the quality stage has one step per enabled family, in judge's order", async () => {
    expect((await stepsOf({})).map((s) => [s.name, s.kind])).toEqual(RULE_FAMILIES.map((f) => [f.name, f.cleans ? 'transform' : 'filter']));
    expect((await stepsOf({ c4: false, gopher_quality: false })).map((s) => s.name)).toEqual(['gopher-repetition', 'fineweb']);
  });
  it('the stage excludes a document for the rule judge names, and keeps the text judge cleans', async () => {
    const steps = await stepsOf({});
    const sentenceOf = () => `The ${words(4)} and the ${words(5)}, with ${words(3)}.`;
    const article = Array.from({ length: 8 }, () => Array.from({ length: 4 }, sentenceOf).join(' ')).join('\n\n');
    const texts = [
      `the ${words(45)} and`, // gopher-quality
      `${article}\nPlease enable JavaScript to view this page.\nMenu`, // kept, two lines cleaned away by C4
      `${article}\nfunction f() { return 1; }.`, // c4
      `${article}\n${'The same line, twice over, and the same.\n'.repeat(2)}`, // fineweb: repeated line characters
    ];
    const seen = new Set<string>();
    const removed: Record<string, number> = {};
    for (const text of texts) {
      const doc = { id: 'd', text };
      let excluded: [string, string] | null = null;
      for (const step of steps) {
        const r = await step.apply(doc);
        if (r) {
          excluded = [step.name, r.drop];
          break;
        }
      }
      const v = judge(text, C);
      expect(excluded).toEqual(v.failed ? [v.failed.family, v.failed.rule] : null);
      if (!v.failed) expect(doc.text).toBe(v.text);
      seen.add(excluded?.[0] ?? 'kept');
      for (const [why, n] of Object.entries(v.linesRemoved)) removed[`c4 lines removed:${why}`] = (removed[`c4 lines removed:${why}`] ?? 0) + n;
    }
    expect(seen).toEqual(new Set(['gopher-quality', 'kept', 'c4', 'fineweb']));
    expect(counts).toEqual(removed);
    expect(counts['c4 lines removed:javascript']).toBe(1);
  });
});
