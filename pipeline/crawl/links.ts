/** Links of an HTML page, resolved against its URL (or its <base>), honouring nofollow. */
import { lazyPackage } from '../core/lazy-package.js';

const htmlParser2 = lazyPackage<typeof import('htmlparser2')>('htmlparser2');

export function extractLinks(html: string, pageUrl: string): string[] {
  let base = pageUrl;
  let nofollowPage = false;
  const raw: string[] = [];
  const parser = new (htmlParser2().Parser)(
    {
      onopentag(name, attrs) {
        if (name === 'base' && attrs.href) {
          try {
            base = new URL(attrs.href, pageUrl).toString();
          } catch {
            // an unusable <base> is ignored, as browsers do
          }
        } else if (name === 'meta' && /^robots$/i.test(attrs.name ?? '') && /nofollow|none/i.test(attrs.content ?? '')) {
          nofollowPage = true;
        } else if ((name === 'a' || name === 'area') && attrs.href && !/\bnofollow\b/i.test(attrs.rel ?? '')) {
          raw.push(attrs.href);
        }
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  if (nofollowPage) return [];
  const links = new Set<string>();
  for (const href of raw) {
    try {
      const url = new URL(href.trim(), base);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') continue;
      url.hash = '';
      links.add(url.toString());
    } catch {
      // not a URL
    }
  }
  return [...links];
}
