/** The options of `refinery sample-web` (kept apart from the builder, so the CLI loads its corpora only when it runs). */
import * as z from 'zod';

export const sampleWebOptions = z
  .object({
    pages: z.number().int().min(1).default(2000).describe('number of HTTP responses (pages, errors, redirects, images)'),
    seed: z.number().int().min(0).default(1).describe('random seed'),
    pages_per_file: z.number().int().min(1).default(250).describe('responses per WARC file'),
  })
  .strict();
