/** `refinery tokenizer train|encode|decode` and `refinery tokenize`. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import * as z from 'zod';
import { parseOptions } from '../../core/config.js';
import { UserError, errorMessage } from '../../core/errors.js';
import type { Runner } from '../../core/executor.js';
import { writeFileAtomic } from '../../core/layout.js';
import { formatBytes, formatCount } from '../../core/progress.js';
import { readTokensSummary, tokenizeOperation, tokenizerTrainOptions, trainTokenizer } from '../../tokenize/index.js';
import { Tokenizer } from '../../tokenize/tokenizer.js';
import { addSchemaFlags } from '../flags.js';
import { addOperationCommand } from './stages.js';

const tokenizerFile = z.string().describe('the tokenizer').meta({ value: 'tokenizer.json' });
const encodeOptions = z
  .object({
    tokenizer: tokenizerFile,
    text: z.string().optional().describe('encode this text instead of a file').meta({ value: 'text' }),
    show: z.boolean().default(false).describe('print each token as text next to its id'),
  })
  .strict();
const decodeOptions = z.object({ tokenizer: tokenizerFile }).strict();
const addSpecialOptions = z
  .object({
    tokenizer: tokenizerFile,
    output: z.string().describe('the tokenizer file to write (may be --tokenizer itself: it is replaced whole or not at all)').meta({ value: 'tokenizer.json' }),
  })
  .strict();

function readInput(text: string | undefined, file: string | undefined): string {
  if (text !== undefined) return text;
  try {
    return readFileSync(file === undefined || file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new UserError(`${file ?? 'standard input'}: cannot read (${errorMessage(err)})`);
  }
}

export function addTokenizerCommands(program: Command, runner: Runner): void {
  const tokenizer = program.command('tokenizer').summary('train a byte-level BPE tokenizer; encode and decode one text').description(
    'A byte-level BPE tokenizer (GPT-2 pre-tokenisation, all 256 bytes, <|endoftext|>) saved as a Hugging Face tokenizer.json.',
  );
  const train = tokenizer
    .command('train')
    .summary('train a tokenizer on documents')
    .description('Count the GPT-2 pieces of the inputs\' text (up to --max-bytes), then learn merges until the vocabulary has --vocab tokens.')
    .argument('<inputs...>', 'shard directories or files, JSONL(.gz) or text files')
    .requiredOption('-o, --output <tokenizer.json>', 'the tokenizer file to write');
  const pickTrain = addSchemaFlags(train, tokenizerTrainOptions.omit({ inputs: true, output: true }), 'Options:');
  train.action(async (inputs: string[], values: Record<string, unknown>) => {
    const config = parseOptions(tokenizerTrainOptions, { ...pickTrain(values), inputs, output: values.output }, 'refinery tokenizer train');
    const r = await trainTokenizer(config);
    console.log(`tokenizer train: ${r.output}: ${formatCount(r.vocab)} tokens (${formatCount(r.merges)} merges) from ${formatBytes(r.bytes)} in ${(r.seconds.count + r.seconds.merge).toFixed(1)} s (counting ${r.seconds.count.toFixed(1)} s, merging ${r.seconds.merge.toFixed(1)} s)`);
  });

  const encode = tokenizer
    .command('encode')
    .summary('print the token ids of one text')
    .argument('[file]', 'a text file, or - for standard input (default)');
  const pickEncode = addSchemaFlags(encode, encodeOptions, 'Options:', { required: true });
  encode.option('--json', 'print JSON');
  encode.action((file: string | undefined, values: Record<string, unknown>) => {
    const o = parseOptions(encodeOptions, pickEncode(values), 'refinery tokenizer encode');
    const tok = Tokenizer.load(o.tokenizer);
    const text = readInput(o.text, file);
    const ids = tok.encode(text);
    if (values.json) console.log(JSON.stringify({ ids, tokens: ids.length, bytes: Buffer.byteLength(text) }));
    else if (o.show) console.log(ids.map((id) => `${id}\t${JSON.stringify(tok.decode([id]))}`).join('\n'));
    else console.log(ids.join(' '));
    if (!values.json) console.error(`${formatCount(ids.length)} tokens, ${formatCount(Buffer.byteLength(text))} bytes (${(Buffer.byteLength(text) / Math.max(1, ids.length)).toFixed(2)} bytes/token)`);
  });

  const decode = tokenizer
    .command('decode')
    .summary('print the text of token ids')
    .argument('<ids...>', 'token ids (or one argument of ids separated by spaces or commas)');
  const pickDecode = addSchemaFlags(decode, decodeOptions, 'Options:', { required: true });
  decode.action((args: string[], values: Record<string, unknown>) => {
    const tok = Tokenizer.load(parseOptions(decodeOptions, pickDecode(values), 'refinery tokenizer decode').tokenizer);
    const ids = args.flatMap((a) => a.split(/[\s,]+/)).filter(Boolean).map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 0) throw new UserError(`tokenizer decode: "${s}" is not a token id`);
      return n;
    });
    process.stdout.write(tok.decode(ids));
    process.stdout.write('\n');
  });

  const addSpecial = tokenizer
    .command('add-special')
    .summary('add special tokens (e.g. the chat tokens) to a trained tokenizer, keeping every existing id')
    .description(
      'Append special tokens to a trained tokenizer without retraining it: each new token gets the next free id, every existing ' +
        'id, merge and encoding stays the same, and text is never encoded to a special token. A checkpoint trained with the old ' +
        'tokenizer still fits (refinery sft grows its embedding rows). Tokens the tokenizer already has are left as they are.',
    )
    .argument('<tokens...>', 'the special tokens, e.g. "<|user|>" "<|assistant|>" "<|end|>"');
  const pickAddSpecial = addSchemaFlags(addSpecial, addSpecialOptions, 'Options:', { required: true });
  addSpecial.action((names: string[], values: Record<string, unknown>) => {
    const o = parseOptions(addSpecialOptions, pickAddSpecial(values), 'refinery tokenizer add-special');
    const before = Tokenizer.load(o.tokenizer);
    const after = before.withSpecials(names);
    writeFileAtomic(o.output, after.toJson());
    const added = names.filter((n) => !before.specials.has(n));
    const kept = names.filter((n) => before.specials.has(n));
    console.log(
      `tokenizer add-special: ${o.output}: ${added.map((n) => `${n} = ${after.special(n)}`).join(', ') || 'nothing added'}` +
        `${kept.length ? ` (already there: ${kept.map((n) => `${n} = ${before.special(n)}`).join(', ')})` : ''}; ${formatCount(after.vocabSize)} tokens`,
    );
  });

  addOperationCommand(program, tokenizeOperation, runner, {
    after(out) {
      for (const [name, x] of Object.entries(readTokensSummary(out).splits)) {
        if (x.documents) console.log(`tokenize: ${name}: ${formatCount(x.documents)} documents, ${formatCount(x.tokens)} tokens, ${formatBytes(x.bytes)} of text (${(x.bytes / Math.max(1, x.tokens)).toFixed(2)} bytes/token) in ${x.files.length} file(s)`);
      }
    },
  });
}
