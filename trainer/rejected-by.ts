/**
 * On-policy rejected answers: for a question whose answer is one of a closed set (a genre among
 * 15), the wrong answer a model itself ranks highest, by the summed log-probability DPO
 * compares. Preference pairs built so hold a mistake the model actually makes, as preference
 * data collected from a model's own answers does (Llama 3, Tulu 3), instead of a random wrong
 * answer it already ranks low.
 */
import { END, encodeChat } from './chat-template.js';
import { allLogProbs } from './dpo.js';
import type { GPT } from './model.js';
import { chatRows } from './sft.js';
import type { Tokenizer } from '../pipeline/tokenize/tokenizer.js';

export interface ClosedQuestion {
  prompt: string;
  right: string;
  /** Every answer the question allows (the right one among them or not). */
  candidates: readonly string[];
}

/** For each question, the candidate other than the right one that `gpt` gives the highest summed log-probability (ties: the first). */
export async function favouriteWrongAnswers(gpt: GPT, tok: Tokenizer, questions: readonly ClosedQuestion[], T: number, batchRows = 32): Promise<string[]> {
  const wrong = questions.map((q) => q.candidates.filter((c) => c !== q.right));
  const chats = questions.flatMap((q, i) => wrong[i].map((answer) => encodeChat(tok, [{ role: 'user', content: q.prompt }, { role: 'assistant', content: answer }])));
  const lp = await allLogProbs(gpt, chatRows(chats, T, tok.special(END), false), batchRows, T);
  const out: string[] = [];
  let at = 0;
  for (const answers of wrong) {
    let best = 0;
    for (let k = 1; k < answers.length; k++) if (lp[at + k] > lp[at + best]) best = k;
    out.push(answers[best]);
    at += answers.length;
  }
  return out;
}
