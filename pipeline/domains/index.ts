/**
 * `refinery domains`: a `domain` label for every document. URL rules decide first (the
 * user's, then the built-in ones); a fastText topic classifier from `refinery domains
 * train` labels the rest; what neither labels gets --default-domain. `domain_source` says
 * which decided ("rule", "classifier", "default") and `domain_score` is the classifier's
 * probability.
 */
import * as z from 'zod';
import { Classifier, classifierText } from '../classify/fasttext.js';
import { defineStage, type Step, type TaskContext } from '../core/stage.js';
import { BUILTIN_RULES, loadRules, ruleMatcher } from './rules.js';

export const domainOptions = z
  .object({
    rules: z.string().optional().describe('a YAML file of URL rules (domain + hosts, tlds, host_prefixes, urls); tried before the built-in ones'),
    builtin_rules: z.boolean().default(true).describe('use the built-in URL rules (encyclopedias, code hosts, Q&A, preprint servers, forums, shops, news, government, blogs)'),
    classifier: z.string().optional().describe('a fastText topic model from "refinery domains train" (model.bin) for documents no rule labels'),
    min_score: z.number().min(0).max(1).default(0).describe('a classifier label below this probability gives the default domain instead'),
    default_domain: z.string().regex(/^[a-z0-9_-]+$/).default('other').describe('the domain of documents neither a rule nor the classifier labels'),
  })
  .strict();
export type DomainConfig = z.infer<typeof domainOptions>;

async function domainSteps(c: DomainConfig, ctx: TaskContext): Promise<Step[]> {
  const match = ruleMatcher([...(c.rules ? loadRules(c.rules) : []), ...(c.builtin_rules ? BUILTIN_RULES : [])]);
  const classifier = c.classifier ? await Classifier.open(c.classifier) : null;
  const normalization = classifier?.info.normalization ?? 'tokens';
  return [
    {
      name: 'domain',
      kind: 'annotate',
      adds: [
        { name: 'domain', type: 'string' },
        { name: 'domain_source', type: 'string' },
        { name: 'domain_score', type: 'float32' },
      ],
      async apply(doc) {
        let domain = typeof doc.url === 'string' ? match(doc.url) : null;
        let source = 'rule';
        let score: number | null = null;
        if (domain === null && classifier) {
          const best = await classifier.predictNormalized(classifierText(typeof doc.text === 'string' ? doc.text : '', normalization));
          if (best && best.score >= c.min_score) [domain, source, score] = [best.label, 'classifier', best.score];
        }
        if (domain === null) [domain, source] = [c.default_domain, 'default'];
        doc.domain = domain;
        doc.domain_source = source;
        doc.domain_score = score;
        ctx.count(`domains:${domain}`);
        ctx.count(`domain source:${source}`);
      },
      close: () => classifier?.close(),
    },
  ];
}

export const domainStage = defineStage({
  name: 'domains',
  summary: 'label each document with its domain (URL rules, then a fastText topic classifier)',
  description:
    'Adds domain, domain_source (rule, classifier or default) and domain_score. URL rules decide first: --rules FILE, then the ' +
    'built-in ones; a classifier from "refinery domains train" labels the rest. Counts per domain are in the stats.',
  options: domainOptions,
  steps: (config, _columns, _task, ctx) => domainSteps(config, ctx),
});
