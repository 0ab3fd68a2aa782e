/**
 * What each kind of sample page says: articles from Brown sections, forum threads and spam
 * from nlp-corpus sentences, non-English pages from the UDHR, and near-duplicates made by
 * editing an article until its 5-word-shingle Jaccard similarity reaches a target.
 */
import { jaccard, wordShingles } from '../../pipeline/text/normalize.js';
import { PII_TYPES, piiSentence, type PlantedPii } from './pii.js';
import type { Random } from '../../pipeline/core/random.js';
import type { Declaration, Section } from './sources.js';

export interface Text {
  title: string;
  paragraphs: string[];
  posts?: { author: string; date: string; text: string }[];
}

/** The text a perfect extractor returns for a page: title, then paragraphs (or posts). */
export function goldText(t: Text): string {
  const body = t.posts ? t.posts.map((p) => p.text) : t.paragraphs;
  return [t.title, ...body].join('\n\n');
}

const USERS = ['quietfox', 'Marla_T', 'dieselpunk77', 'hank.hill', 'sunnyside', 'old_salt', 'k8lyn', 'TheRealBob', 'meadowlark', 'nightowl42'];

export function forumThread(sentences: readonly string[], random: Random): Text {
  const title = random.pick(sentences).split(/\s+/).slice(0, random.int(4, 9)).join(' ').replace(/[.,;:!?]+$/, '');
  const posts = Array.from({ length: random.int(3, 9) }, () => ({
    author: random.pick(USERS),
    date: `2024-0${random.int(1, 5)}-${String(random.int(1, 28)).padStart(2, '0')} ${random.int(10, 23)}:${String(random.int(0, 59)).padStart(2, '0')}`,
    text: Array.from({ length: random.int(1, 4) }, () => random.pick(sentences)).join(' '),
  }));
  return { title: title || 'Thread', paragraphs: [], posts };
}

const SPAM_WORDS = ['cheap', 'best price', 'free bonus', 'buy now', 'limited offer', 'click here', 'guaranteed', 'no prescription', '100% free', 'win big'];

export function spamPage(site: string, sentences: readonly string[], random: Random): Text {
  const keyword = `${random.pick(SPAM_WORDS)} ${site}`;
  const paragraphs: string[] = [];
  const style = random.int(0, 3);
  if (style === 0) {
    // Keyword stuffing.
    for (let i = 0; i < random.int(8, 20); i++) paragraphs.push(`${keyword} ${keyword.toUpperCase()} ${random.pick(SPAM_WORDS)} ${keyword}!!!`);
  } else if (style === 1) {
    // A link farm: short lines of anchor text.
    for (let i = 0; i < random.int(20, 60); i++) paragraphs.push(`${random.pick(SPAM_WORDS)} ${site} ${random.int(1, 999)}`);
  } else if (style === 2) {
    // Scraped filler: unrelated sentences, the same few lines repeated.
    const lines = Array.from({ length: random.int(3, 6) }, () => random.pick(sentences));
    for (let i = 0; i < random.int(10, 25); i++) paragraphs.push(random.pick(lines));
  } else {
    paragraphs.push('Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.');
    for (let i = 0; i < random.int(5, 12); i++) paragraphs.push(`${keyword.toUpperCase()} ... ${random.pick(SPAM_WORDS)} ... ${random.pick(sentences)}`);
  }
  return { title: `${keyword.toUpperCase()} - ${random.pick(SPAM_WORDS).toUpperCase()}!!!`, paragraphs };
}

export function foreignPage(decl: Declaration, random: Random): Text {
  const start = random.int(0, Math.max(0, decl.paragraphs.length - 8));
  return { title: decl.title, paragraphs: decl.paragraphs.slice(start, start + random.int(5, 14)) };
}

export function articleText(section: Section): Text {
  return { title: section.title, paragraphs: [...section.paragraphs] };
}

/** Insert 1-3 sentences with personal data into random paragraphs; returns what was planted. */
export function plantPii(text: Text, random: Random): PlantedPii[] {
  const planted: PlantedPii[] = [];
  for (let i = 0; i < random.int(1, 3); i++) {
    const { sentence, pii } = piiSentence(random.pick(PII_TYPES), random);
    planted.push(pii);
    if (text.posts) {
      const post = random.pick(text.posts);
      post.text = `${post.text} ${sentence}`;
    } else {
      const at = random.int(0, text.paragraphs.length - 1);
      text.paragraphs[at] = `${text.paragraphs[at]} ${sentence}`;
    }
  }
  return planted;
}

/** Straight quotes and dashes made typographic, as a windows-1252 page would have them. */
export function typographic(text: Text): Text {
  const fix = (s: string) => s.replace(/"([^"]*)"/g, '\u201c$1\u201d').replace(/(\w)'(\w)/g, '$1\u2019$2').replace(/ -- /g, ' \u2014 ');
  return { ...text, title: fix(text.title), paragraphs: text.paragraphs.map(fix) };
}

export const NEAR_DUPLICATE_TARGETS = [0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5];

/**
 * A near-duplicate of `original`: some paragraphs dropped or added, some words replaced,
 * until the Jaccard similarity of 5-word shingles is close to `target`. Returns the measured value.
 */
export function nearDuplicate(original: Text, target: number, vocabulary: readonly string[], random: Random): { text: Text; jaccard: number } {
  const base = wordShingles(goldText(original));
  // Each replaced word breaks up to 5 shingles: J ~ s / (2 - s) with s = (1 - p)^5 surviving.
  const survive = (2 * target) / (1 + target);
  let rate = 1 - survive ** (1 / 5);
  let best = { text: original, jaccard: 1 };
  for (let attempt = 0; attempt < 8; attempt++) {
    const r = random.fork(`near-${attempt}`);
    const paragraphs = original.paragraphs.map((p) => p.split(' ').map((w) => (r.chance(rate) ? r.pick(vocabulary) : w)).join(' '));
    if (r.chance(0.3) && paragraphs.length > 4) paragraphs.pop(); // a truncated copy
    const text = { title: original.title, paragraphs };
    const j = jaccard(base, wordShingles(goldText(text)));
    if (Math.abs(j - target) < Math.abs(best.jaccard - target)) best = { text, jaccard: j };
    if (Math.abs(j - target) < 0.02) break;
    rate *= j > target ? 1.25 : 0.8;
  }
  return { text: best.text, jaccard: Math.round(best.jaccard * 1e4) / 1e4 };
}
