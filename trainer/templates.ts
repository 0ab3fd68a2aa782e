/**
 * Prompt templates for multiple-choice scoring. A model's accuracy moves with the wording of the
 * prompt, so one template's number says little; `refinery eval --templates N|all` scores every
 * item under several real templates (the forms lm-evaluation-harness tasks and the GPT-3 and
 * MMLU papers use) and reports each one and their mean.
 *
 * A template makes the prompt of a question and the continuation of each choice: the scorer
 * compares the log-likelihood of the continuations after the prompt. A worked example (few-shot)
 * is the prompt followed by the right continuation.
 */
import { UserError } from '../pipeline/core/errors.js';

export interface McItem {
  question: string;
  choices: string[];
  answer: number;
}

export interface Template {
  name: string;
  /** What it looks like, for --help and the README. */
  shape: string;
  prompt(t: McItem): string;
  /** The text scored for choice i (it starts with the space after the prompt). */
  continuation(t: McItem, i: number): string;
  /** The most choices it can show (letters run out). */
  maxChoices?: number;
}

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** In this order: `--templates 2` takes the first two. The first is the default, as before templates existed. */
export const TEMPLATES: readonly Template[] = [
  // lm-evaluation-harness's ARC, SciQ and MMLU-cloze tasks.
  { name: 'question-answer', shape: 'Question: {question}\\nAnswer: {choice}', prompt: (t) => `Question: ${t.question}\nAnswer:`, continuation: (t, i) => ` ${t.choices[i]}` },
  // GPT-3's few-shot QA format (Brown et al. 2020).
  { name: 'q-a', shape: 'Q: {question}\\nA: {choice}', prompt: (t) => `Q: ${t.question}\nA:`, continuation: (t, i) => ` ${t.choices[i]}` },
  // MMLU's (Hendrycks et al. 2021): the choices listed with letters, the answer a letter.
  {
    name: 'lettered',
    shape: '{question}\\nA. {choice 1}\\nB. {choice 2}…\\nAnswer: {letter}',
    prompt: (t) => `${t.question}\n${t.choices.map((c, i) => `${LETTERS[i]}. ${c}`).join('\n')}\nAnswer:`,
    continuation: (_t, i) => ` ${LETTERS[i]}`,
    maxChoices: LETTERS.length,
  },
  // Cloze: the choice continues the question directly (lm-evaluation-harness's HellaSwag, PIQA).
  { name: 'cloze', shape: '{question} {choice}', prompt: (t) => t.question, continuation: (t, i) => ` ${t.choices[i]}` },
];

/** `--templates`: a count of the list's first templates, `all`, or names separated by commas. */
export function pickTemplates(spec: string | number): Template[] {
  const s = String(spec).trim();
  if (s === 'all') return [...TEMPLATES];
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n < 1 || n > TEMPLATES.length) throw new UserError(`--templates ${s}: give 1 to ${TEMPLATES.length}, "all", or names (${TEMPLATES.map((t) => t.name).join(', ')})`);
    return TEMPLATES.slice(0, n);
  }
  const names = s.split(',').map((x) => x.trim()).filter(Boolean);
  const picked = names.map((name) => {
    const t = TEMPLATES.find((x) => x.name === name);
    if (!t) throw new UserError(`--templates: no template "${name}" (have ${TEMPLATES.map((x) => x.name).join(', ')}; or a count, or "all")`);
    return t;
  });
  if (new Set(names).size !== names.length || picked.length === 0) throw new UserError(`--templates ${s}: name each template once`);
  return picked;
}

/** A worked example: the prompt and the right answer, then a blank line. */
export const workedExample = (template: Template, t: McItem): string => `${template.prompt(t)}${template.continuation(t, t.answer)}\n\n`;
