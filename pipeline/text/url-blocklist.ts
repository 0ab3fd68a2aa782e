/**
 * URL blocklists from user files: domains (a listed domain also blocks its subdomains) and
 * URL substrings. Lines starting with # are comments. Shared by extract and pii.
 */
import { readListFile } from '../core/list-file.js';

const lines = (file: string) => readListFile(file, 'blocklist').map((e) => e.value);

export class UrlBlocklist {
  private readonly domains: Set<string>;
  private readonly substrings: string[];

  constructor(domainFile?: string, substringFile?: string) {
    this.domains = new Set(domainFile ? lines(domainFile).map((d) => d.toLowerCase().replace(/^\*?\./, '')) : []);
    this.substrings = substringFile ? lines(substringFile).map((s) => s.toLowerCase()) : [];
  }

  get empty(): boolean {
    return this.domains.size === 0 && this.substrings.length === 0;
  }

  /** Why `url` is blocked, or null. */
  match(url: string): string | null {
    const lower = url.toLowerCase();
    let host: string;
    try {
      host = new URL(url).hostname.toLowerCase();
    } catch {
      host = '';
    }
    for (let h = host; h; h = h.includes('.') ? h.slice(h.indexOf('.') + 1) : '') {
      if (this.domains.has(h)) return `domain ${h}`;
    }
    const hit = this.substrings.find((s) => lower.includes(s));
    return hit ? `URL contains "${hit}"` : null;
  }
}
