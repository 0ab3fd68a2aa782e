/** `refinery domains train`: the topic classifier the domains stage uses for documents no URL rule labels. */
import type { Command } from 'commander';
import { parseOptions } from '../../core/config.js';
import { formatBytes } from '../../core/progress.js';
import { domainTrainOptions, trainDomainClassifier } from '../../domains/train.js';
import { addSchemaFlags } from '../flags.js';

export function addDomainTrainCommand(domains: Command): void {
  // "domains" has its own -o: its options count only before the subcommand's name (this needs the root's too).
  domains.enablePositionalOptions();
  domains.parent?.enablePositionalOptions();
  const train = domains
    .command('train')
    .summary('train a fastText topic classifier from labelled documents')
    .description(
      'Train a fastText classifier (bigrams, softmax) with one label per document, read from --label-field (a column, or a ' +
        'field of JSONL records, which import keeps in the metadata column). Each label is sampled up to --max-per-label; a ' +
        'held-out share reports accuracy, macro F1 and each label\'s precision and recall. Use it with "domains --classifier model.bin".',
    )
    .requiredOption('-o, --output <model.bin>', 'the model file to write');
  const schema = domainTrainOptions.omit({ output: true });
  const pick = addSchemaFlags(train, schema, 'Training options:');
  train.action(async (values: Record<string, unknown>) => {
    const config = parseOptions(domainTrainOptions, { ...pick(values), output: values.output }, 'refinery domains train');
    const report = await trainDomainClassifier(config);
    const rows = Object.entries(report.labels).map(
      ([label, x]) => `  ${label.padEnd(18)} train ${String(x.train).padStart(6)}  held out ${String(x.held).padStart(5)}  precision ${x.precision?.toFixed(2) ?? '-'}  recall ${x.recall?.toFixed(2) ?? '-'}`,
    );
    console.log(rows.join('\n'));
    const skipped = Object.entries(report.skipped_labels).map(([l, n]) => `${l} (${n})`);
    if (skipped.length) console.log(`  too few documents, left out: ${skipped.join(', ')}`);
    const held = report.holdout_accuracy === null ? 'no hold-out' : `held out: accuracy ${report.holdout_accuracy.toFixed(3)}, macro F1 ${report.macro_f1?.toFixed(3)}`;
    console.log(`domains train: ${report.model} (${formatBytes(report.bytes)}) in ${report.seconds.toFixed(1)} s; ${held}`);
  });
}
