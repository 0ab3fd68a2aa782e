/**
 * Registers the gradients of tfjs's standard ops. The full @tensorflow/tfjs package does this
 * with tfjs-core's `register_all_gradients` module, which ships only as ES modules whose imports
 * lack file extensions, so Node cannot load them as they are: a resolve hook adds ".js" to the
 * relative imports inside tfjs-core's dist folder, for those files alone (trying the ".js" path
 * first: letting each bare path fail first made loading the gradients take 1.7 s instead of 1.1 s,
 * at the start of every training command). The gradients land in
 * tfjs's global registry, which every copy of tfjs-core in the process shares.
 */
import { register } from 'node:module';

const hook = `
export async function resolve(specifier, context, next) {
  const inTfjs = context.parentURL && context.parentURL.includes('/@tensorflow/tfjs-core/dist/');
  if (inTfjs && (specifier.startsWith('./') || specifier.startsWith('../')) && !specifier.endsWith('.js')) {
    try {
      return await next(specifier + '.js', context);
    } catch {}
  }
  return next(specifier, context);
}`;

let done: Promise<unknown> | null = null;

export function registerGradients(): Promise<unknown> {
  done ??= (async () => {
    register(`data:text/javascript,${encodeURIComponent(hook)}`);
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  })();
  return done;
}
