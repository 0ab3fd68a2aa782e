/** `refinery quality ...`: the filter, classifier training, and one document's verdict. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseOptions } from '../../core/config.js';
import { UserError, errorMessage } from '../../core/errors.js';
import type { Runner } from '../../core/executor.js';
import { formatBytes } from '../../core/progress.js';
import { identifyLanguage } from '../../extract/language.js';
import { extractPage } from '../../extract/page.js';
import { explain, explanationTable } from '../../quality/explain.js';
import { qualityOperation, qualityOptions } from '../../quality/index.js';
import { cvTable, trainClassifier, trainOptions } from '../../quality/train.js';
import { addSchemaFlags } from '../flags.js';
import { addOperationCommand } from './stages.js';

export function addQualityCommands(program: Command, runner: Runner): void {
  const quality = program
    .command('quality')
    .summary('heuristic quality rules (Gopher, C4, FineWeb) and fastText quality classifiers')
    .description(
      'Quality filtering: "filter" applies the Gopher repetition, Gopher quality, C4 and FineWeb rules (published ' +
        'thresholds, each rule its own exclusion reason) and optionally a fastText classifier; "train" trains such a ' +
        'classifier; "explain" shows every rule\'s value, threshold and verdict for one text.',
    );

  addOperationCommand(quality, qualityOperation, runner, { name: 'filter' });

  const train = quality
    .command('train')
    .summary('train a fastText classifier from positive and negative documents')
    .description(
      'Train a fastText classifier (bigrams, softmax) telling --positive documents from --negative ones, as DCLM does. ' +
        'Classes are balanced by sampling; a held-out share reports accuracy and ROC AUC. Writes model.bin and model.json ' +
        '(labels, text normalisation) beside it; use it with "quality filter --classifier model.bin".',
    )
    .requiredOption('-o, --output <model.bin>', 'the model file to write');
  const trainSchema = trainOptions.omit({ output: true });
  const pickTrain = addSchemaFlags(train, trainSchema, 'Training options:');
  train.action(async (values: Record<string, unknown>) => {
    const config = parseOptions(trainOptions, { ...pickTrain(values), output: values.output }, 'refinery quality train');
    const report = await trainClassifier(config);
    if (report.cv) console.log(`${report.cv.k}-fold cross-validation:\n${cvTable(report.cv)}`);
    const held = report.cv
      ? `cross-validated: ROC AUC ${report.cv.auc.mean.toFixed(3)} ± ${report.cv.auc.sd.toFixed(3)}, accuracy ${report.cv.accuracy.mean.toFixed(3)} ± ${report.cv.accuracy.sd.toFixed(3)}; trained on all documents`
      : report.holdout_auc === null
        ? 'no hold-out'
        : `held out: accuracy ${report.holdout_accuracy?.toFixed(3)}, ROC AUC ${report.holdout_auc.toFixed(3)}`;
    console.log(`quality train: ${report.model} (${formatBytes(report.bytes)}) in ${report.seconds.toFixed(1)} s; ${held}`);
  });

  const explainCmd = quality
    .command('explain')
    .summary("every rule's value, threshold and verdict for one text")
    .argument('<file>', 'a text file, an HTML page (its extracted text is judged), or - for standard input')
    .option('--json', 'print JSON')
    .option('--lang <code>', "the text's language, whose settings judge it (default: identified as extract does it, fastText lid.176)");
  const pickExplain = addSchemaFlags(explainCmd, qualityOptions.omit({ keep_top: true }), 'Quality options:');
  explainCmd.action(async (source: string, values: Record<string, unknown>) => {
    const config = parseOptions(qualityOptions, pickExplain(values), 'refinery quality explain');
    let text: string;
    if (/\.x?html?$/i.test(source) || /^https?:\/\//i.test(source)) text = (await extractPage(source)).text;
    else {
      try {
        text = readFileSync(source === '-' ? 0 : source, 'utf8');
      } catch (err) {
        throw new UserError(`${source}: cannot read (${errorMessage(err)})`);
      }
    }
    let lang = typeof values.lang === 'string' ? values.lang : null;
    let how = 'given';
    if (!lang) {
      const found = await identifyLanguage(text);
      lang = found?.lang ?? null;
      how = found ? `identified, score ${found.score}` : 'not identified';
    }
    const e = await explain(text, config, lang);
    e.language.label += ` [${how}]`;
    console.log(values.json ? JSON.stringify(e, null, 1) : explanationTable(e));
  });
}
