/**
 * A word-count reference for sample-chat's genre task: multinomial naive Bayes (add-one smoothing,
 * lower-cased words, the label's share of the training passages as its prior) trained on the
 * training passages and their labels, scored the way the bench scores the models: the share of
 * held-out pairs where the right genre scores higher than the rejected one, and the share of
 * held-out passages whose best-scoring genre is the right one. It says how much of a passage's
 * genre its words give away, so a model's numbers on the genre pairs can be read against it.
 */
import { passageOfGenrePrompt, type ChatExample, type PreferencePair } from '../datasets/sample-chat.js';
import { spacedWords } from '../pipeline/text/words.js';

/** The lower-cased words of a genre prompt's passage. */
const wordsOf = (prompt: string) => [...spacedWords(passageOfGenrePrompt(prompt).toLowerCase())];

export interface GenreBaseline {
  /** Held-out pairs where the right genre scores higher (ties count half). */
  pairwise: number;
  /** Held-out passages whose best-scoring genre is the right one. */
  exact: number;
}

export function naiveBayesGenre(train: readonly ChatExample[], heldPairs: readonly PreferencePair[], held: readonly ChatExample[]): GenreBaseline {
  const counts = new Map<string, { passages: number; words: number; of: Map<string, number> }>();
  const vocabulary = new Set<string>();
  for (const x of train) {
    const genre = x.messages[1].content;
    const c = counts.get(genre) ?? { passages: 0, words: 0, of: new Map<string, number>() };
    counts.set(genre, c);
    c.passages++;
    for (const w of wordsOf(x.messages[0].content)) {
      c.of.set(w, (c.of.get(w) ?? 0) + 1);
      c.words++;
      vocabulary.add(w);
    }
  }
  const score = (genre: string, words: readonly string[]) => {
    const c = counts.get(genre);
    if (!c) throw new Error(`genre baseline: no training passage of genre "${genre}"`);
    let logP = Math.log(c.passages / train.length);
    for (const w of words) logP += Math.log(((c.of.get(w) ?? 0) + 1) / (c.words + vocabulary.size));
    return logP;
  };
  let pairwise = 0;
  for (const p of heldPairs) {
    const words = wordsOf(p.prompt);
    const [right, wrong] = [score(p.chosen, words), score(p.rejected, words)];
    pairwise += right > wrong ? 1 : right === wrong ? 0.5 : 0;
  }
  const genres = [...counts.keys()];
  let exact = 0;
  for (const x of held) {
    const words = wordsOf(x.messages[0].content);
    const scores = genres.map((g) => score(g, words));
    exact += genres[scores.indexOf(Math.max(...scores))] === x.messages[1].content ? 1 : 0;
  }
  return { pairwise: pairwise / heldPairs.length, exact: exact / held.length };
}
