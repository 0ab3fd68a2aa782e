/** `refinery view`: a local web app over stage outputs, training runs and mixes (pipeline/view/). */
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import * as z from 'zod';
import { parseOptions } from '../../core/config.js';
import { UserError } from '../../core/errors.js';
import { formatCount } from '../../core/progress.js';
import { addSchemaFlags } from '../flags.js';

export const viewOptions = z
  .object({
    port: z.number().int().min(0).max(65535).default(8080).describe('port to listen on (0: any free port)'),
    host: z.string().min(1).default('127.0.0.1').describe('address to listen on; anything but a loopback address lets other machines read the folders').meta({ value: 'address' }),
  })
  .strict();

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export function addViewCommand(program: Command): void {
  const view = program
    .command('view')
    .summary('a local web app to look at a run: funnel, exclusions, documents, clusters, mix, loss curves')
    .description(
      'Serve a web app over the stage outputs (folders with _manifest.json), mixes and training runs (metrics.jsonl) found under the folders given. ' +
        'Pages: Run (the funnel), Stage (exclusion reasons with samples; documents paged, filtered by column: lang = pt, quality_hq > 0.8, url ~ wiki, reason = dup-lines), ' +
        'Document (its text at every stage, changes marked, where it left and why), Clusters (near duplicates side by side), Mix and training (shares; loss and learning-rate curves, reloading while a run writes its log). ' +
        'Shards are read in place a record batch at a time; nothing is changed. Only files under the folders given are served; document text is always shown as text.',
    )
    .argument('<dirs...>', 'folders holding stage outputs (a run\'s output folder, or single stage outputs)');
  const pick = addSchemaFlags(view, viewOptions, 'Options:');
  view.action(async (dirs: string[], values: Record<string, unknown>) => {
    const o = parseOptions(viewOptions, pick(values), 'refinery view');
    // Loaded here, not at start-up: every other command would pay for the server's pages and readers.
    const [{ findSite }, { viewServer }, { indexAll }] = await Promise.all([import('../../view/outputs.js'), import('../../view/server.js'), import('../../view/shard-index.js')]);
    const site = findSite(dirs);
    if (!LOOPBACK.test(o.host)) {
      console.error(`refinery view: warning: listening on ${o.host}: other machines can read every document and file under ${site.roots.join(', ')} (no password); use the default 127.0.0.1 unless that is meant`);
    }
    const server = viewServer(site, LOOPBACK.test(o.host));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new UserError(`port ${o.port} on ${o.host} is in use (try --port 0)`) : err));
      server.listen(o.port, o.host, resolve);
    });
    const { port } = server.address() as AddressInfo;
    const shownHost = o.host.includes(':') ? `[${o.host}]` : o.host;
    console.log(`refinery view: ${formatCount(site.outputs.length)} stage outputs, ${formatCount(site.runs.length)} training runs; http://${shownHost}:${port}/ (Ctrl-C to stop)`);
    void indexAll(site.outputs.map((out) => out.dir));
    await new Promise<void>((resolve) => {
      const stop = () => server.close(() => resolve());
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  });
}
