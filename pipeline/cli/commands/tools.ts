/**
 * Tools around the stages: `crawl` (seed URLs to WARC files), `extract-page` (one page's extraction), `sample-web` (test
 * WARCs), `sample-tasks` (a small multiple-choice task from real text), `sample-chat` (post-training data from real text).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Option, type Command } from 'commander';
import * as z from 'zod';
import { sampleWebOptions } from '../../../datasets/sample-web/options.js';
import { parseFileAndFlags, parseOptions } from '../../core/config.js';
import { UserError } from '../../core/errors.js';
import { formatBytes, formatCount } from '../../core/progress.js';
import { crawl, crawlOptions } from '../../crawl/index.js';
import { sideBySide } from '../../extract/diff.js';
import { extractPage, extractWith, readPage } from '../../extract/page.js';
import { ENGINES } from '../../extract/pool.js';
import { addSchemaFlags } from '../flags.js';

const pageOptions = z
  .object({
    extractor: z.enum(ENGINES).default('fast').describe('extraction engine'),
    diff: z.boolean().default(false).describe("show the fast and readability engines' texts side by side (< only in fast, > only in readability)"),
    width: z.number().int().min(10).default(60).describe('column width for --diff'),
  })
  .strict();

export function addToolCommands(program: Command): void {
  const crawlCmd = program
    .command('crawl')
    .summary('crawl from seed URLs, politely, into WARC files that ingest reads')
    .description(
      'Crawl breadth-first from seed URLs into standard WARC files (request + response records), obeying robots.txt ' +
        '(and its Crawl-delay), with a delay and a concurrency limit per host, limits on pages, bytes, depth, redirects ' +
        'and response size, and connect/read/total timeouts. Links and redirects (of pages and of robots.txt) go only where --follow allows; ' +
        'private, loopback, link-local and other reserved addresses (IPv4-mapped, NAT64 and 6to4 forms included) are refused, ' +
        'on every DNS answer of every hop, unless --allow-private names their hosts or ranges (bare: the seeds\' hosts). ' +
        'A refused seed makes the exit code 2. Then: refinery ingest <dir> -o raw/.',
    )
    .requiredOption('-o, --output <dir>', 'output directory (crawl-00000.warc.gz ..., _crawl.json)')
    .option('--config <file.yaml>', 'read options from a YAML file; flags override it');
  const pickCrawl = addSchemaFlags(crawlCmd, crawlOptions);
  crawlCmd.action(async (values: Record<string, unknown>) => {
    const file = values.config as string | undefined;
    const config = parseFileAndFlags(crawlOptions, file, pickCrawl(values), 'refinery crawl');
    const stats = await crawl(config, values.output as string);
    const counts = (c: Record<string, number>) => Object.entries(c).map(([k, n]) => `${k} ${n}`).join(', ');
    const [errors, skipped, refused] = [counts(stats.errors), counts(stats.skipped), counts(stats.refused)];
    console.log(
      `crawl: ${formatCount(stats.responses)} responses, ${formatBytes(stats.bytes)} in ${stats.warc_files.length} WARC file(s) in ${stats.seconds} s` +
        `${skipped ? `; not fetched: ${skipped}` : ''}${refused ? `; refused: ${refused}` : ''}${errors ? `; errors: ${errors}` : ''} -> ${values.output as string}`,
    );
    const refusedSeeds = Object.entries(stats.refused_seeds);
    if (refusedSeeds.length > 0) {
      for (const [url, why] of refusedSeeds) process.stderr.write(`refinery: seed ${url} refused: ${why}\n`);
      throw new UserError(`${refusedSeeds.length} of ${stats.seeds} seed(s) refused (above)`);
    }
  });

  const pageCmd = program
    .command('extract-page')
    .summary('print what extract would take from one page (title, language, text)')
    .description(
      'Print what `refinery extract` would take from one page: title, language and score, which extractor produced the text, and the text. ' +
        'The everyday tool for looking at a bad extraction; --diff puts the two engines side by side when they disagree.',
    )
    .argument('<page>', 'an HTML file, an http(s) URL, or - for standard input');
  const pickPage = addSchemaFlags(pageCmd, pageOptions, 'Options:');
  pageCmd.option('--json', 'print JSON').action(async (source: string, values: Record<string, unknown>) => {
    const o = parseOptions(pageOptions, pickPage(values), 'refinery extract-page');
    if (o.diff) {
      const page = await readPage(source);
      const url = /^https?:/i.test(source) ? source : null;
      const [fast, readability] = [extractWith('fast', page.html, url), extractWith('readability', page.html, url)];
      if (values.json) console.log(JSON.stringify({ fast, readability }, null, 1));
      else {
        console.log(`title:     ${fast.title ?? '(none)'} | ${readability.title ?? '(none)'}`);
        console.log(`extractor: ${fast.extractor} | ${readability.extractor}`);
        console.log(sideBySide(fast.text, readability.text, o.width, ['fast', 'readability']));
      }
      return;
    }
    const page = await extractPage(source, o.extractor);
    if (values.json) {
      console.log(JSON.stringify(page, null, 1));
      return;
    }
    console.log(`title:     ${page.title ?? '(none)'}`);
    console.log(`language:  ${page.lang ?? '(unknown)'}${page.lang_score !== null ? ` (${page.lang_score})` : ''}`);
    console.log(`extractor: ${page.extractor}`);
    console.log(`charset:   ${page.charset}, ${formatBytes(page.html_bytes)} of HTML -> ${formatCount(page.text.length)} characters of text`);
    console.log(`${'─'.repeat(60)}\n${page.text}`);
  });

  const webCmd = program
    .command('sample-web')
    .summary('build the sample web: deterministic WARC files of realistic pages, with a ground-truth manifest')
    .description(
      'Build the sample web: WARC files of realistic pages made from real text (Brown corpus, nlp-corpus, UDHR), with ' +
        'navigation, ads and cookie banners around the text, and planted exact and near duplicates (at a measured Jaccard ' +
        'similarity), personal data, spam and non-English pages. pages.jsonl says what was planted where; the same seed ' +
        'always gives byte-identical files.',
    )
    .requiredOption('-o, --output <dir>', 'output directory');
  const pickWeb = addSchemaFlags(webCmd, sampleWebOptions, 'Options:');
  webCmd.action(async (values: Record<string, unknown>) => {
    const o = parseOptions(sampleWebOptions, pickWeb(values), 'refinery sample-web');
    // The builder's corpora (Brown, nlp-corpus, UDHR) load only for this command.
    const { buildSampleWeb } = await import('../../../datasets/sample-web/index.js');
    const out = values.output as string;
    const { files, pages } = buildSampleWeb({ out, pages: o.pages, seed: o.seed, pagesPerFile: o.pages_per_file });
    const docs = pages.filter((p) => p.status === 200 && p.content_type === 'text/html').length;
    console.log(`sample-web: ${pages.length} responses (${docs} HTML pages) in ${files.length} WARC files -> ${out} (ground truth: pages.jsonl)`);
  });

  program
    .command('sample-chat')
    .summary('write post-training data made from real text: SFT conversations and DPO preference pairs, train and held-out')
    .description(
      'Write conversations and preference pairs with exact answers from real text: which genre a Brown corpus passage is ' +
        '(its real label; rejected: another genre), and a short paragraph of a UDHR article translated into one of ten ' +
        'European languages (the real translation; two rejected answers: the English paragraph left untranslated, and the ' +
        'same paragraph in another of the ten languages). ' +
        'Held out: every fifth Brown text and every fifth article. Files: sft-train.jsonl, sft-heldout.jsonl (for refinery sft), ' +
        'pairs-train.jsonl, pairs-heldout.jsonl (for refinery dpo). With --rejected-by, the genre pairs are on-policy: their ' +
        'rejected answer is the wrong genre that model ranks highest (the mistake it makes), as preference data gathered ' +
        "from a model's own answers is.",
    )
    .requiredOption('-o, --output <dir>', 'the directory to write')
    .option('--seed <n>', 'seeds the passages drawn and the rejected answers', '1')
    .option('--rejected-by <checkpoint>', "a chat checkpoint (refinery sft's): each genre pair's rejected answer is the wrong genre it gives the highest log-probability")
    .option('--tokenizer <file>', "with --rejected-by: the chat tokenizer (default: the checkpoint's)")
    .action(async (values: { output: string; seed: string; rejectedBy?: string; tokenizer?: string }) => {
      const { writeSampleChat } = await import('../../../datasets/sample-chat.js');
      let wrongAnswers: Parameters<typeof writeSampleChat>[2];
      if (values.rejectedBy) {
        const [{ useBackend }, { openChatStart }, { GPT }, { favouriteWrongAnswers }] = await Promise.all([
          import('../../../trainer/backend.js'),
          import('../../../trainer/sft.js'),
          import('../../../trainer/model.js'),
          import('../../../trainer/rejected-by.js'),
        ]);
        await useBackend('auto', true, 1, false);
        const start = openChatStart(values.rejectedBy, values.tokenizer, 'refinery sample-chat --rejected-by');
        const gpt = new GPT(start.model, start.weights);
        wrongAnswers = async (questions) => {
          console.log(`sample-chat: ranking ${questions[0]?.candidates.length ?? 0} genres for ${formatCount(questions.length)} passages with ${values.rejectedBy}`);
          return favouriteWrongAnswers(gpt, start.tokenizer, questions, start.model.context);
        };
      }
      const counts = await writeSampleChat(values.output, Number(values.seed), wrongAnswers);
      console.log(`sample-chat: ${Object.entries(counts).map(([f, n]) => `${f} ${n}`).join(', ')} -> ${values.output}`);
    });

  program
    .command('sample-tasks')
    .summary('write a multiple-choice task made from real text (UDHR articles, Brown genres), for refinery eval --tasks')
    .description(
      'Write a multiple-choice task with exact answers, made from real text. udhr-articles (default): for each of the 30 ' +
        'articles of the Universal Declaration of Human Rights (English), which article says its first sentence, with the ' +
        'right article number and three others drawn with --seed. brown-genres: for each of the Brown corpus\'s 500 texts, ' +
        'which of its 15 genres the opening of the text is from (four choices), in a seeded order so that any first --size ' +
        'questions are a random sample. One JSON line per question, as refinery eval --tasks and refinery decontaminate --against read them.',
    )
    .requiredOption('-o, --output <file.jsonl>', 'the file to write')
    .option('--seed <n>', 'seeds the wrong choices and their order', '1')
    .addOption(new Option('--task <name>', 'which task').choices(['udhr-articles', 'brown-genres']).default('udhr-articles'))
    .option('--size <n>', 'write only the first n questions (udhr-articles has 30, brown-genres 500)')
    .action(async (values: { output: string; seed: string; task: string; size?: string }) => {
      const size = values.size === undefined ? Number.POSITIVE_INFINITY : Number(values.size);
      if (values.size !== undefined && !(size >= 1 && Number.isInteger(size))) throw new UserError(`sample-tasks --size ${values.size}: expected a whole number of questions, at least 1`);
      const tasks =
        values.task === 'brown-genres'
          ? (await import('../../../datasets/brown-genres.js')).brownGenreTasks(Number(values.seed))
          : await (await import('../../../datasets/udhr-articles.js')).udhrArticleTasks(Number(values.seed));
      const written = tasks.slice(0, size);
      mkdirSync(dirname(values.output), { recursive: true });
      writeFileSync(values.output, `${written.map((t) => JSON.stringify(t)).join('\n')}\n`);
      console.log(`sample-tasks: ${written.length} ${values.task} questions -> ${values.output}`);
    });
}
