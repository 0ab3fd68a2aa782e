/**
 * A larger multiple-choice task from real text with exact answers: for each of the Brown corpus's
 * 500 texts, "which kind of writing is this passage from?" with the opening of the text, its
 * genre (the corpus's own label) and three other genres drawn with a seed. The questions come in
 * a seeded order, so any first n of them is a random sample of the corpus (the interval-width
 * report scores the first 50, 100, 200, 400). `refinery sample-tasks --task brown-genres`.
 */
import { Random } from '../pipeline/core/random.js';
import { brownTexts } from './brown.js';
import type { ArticleTask } from './udhr-articles.js';

/** The opening of a text: whole sentences of its first paragraph, at least `words` words when it has them. */
function opening(text: string, words = 30): string {
  const sentences = (text.split('\n\n')[0] ?? '').match(/[^.!?]+[.!?]+["')]*\s*|[^.!?]+$/g) ?? [];
  let out = '';
  for (const s of sentences) {
    out += s;
    if (out.split(/\s+/).length >= words) break;
  }
  return out.trim();
}

export function brownGenreTasks(seed = 1, choices = 4): ArticleTask[] {
  const texts = brownTexts();
  const genres = [...new Set(texts.map((t) => t.genre))].map((g) => g.replace(/_/g, ' '));
  const rng = new Random(seed);
  const tasks = texts.map((t) => {
    const genre = t.genre.replace(/_/g, ' ');
    const options = rng.shuffle([genre, ...rng.shuffle(genres.filter((g) => g !== genre)).slice(0, choices - 1)]);
    return { question: `Which kind of writing is this passage from: "${opening(t.text)}"`, choices: options, answer: options.indexOf(genre) };
  });
  return rng.shuffle(tasks);
}
