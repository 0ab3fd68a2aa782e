/**
 * The crawler's address guard: private, loopback, link-local and other reserved addresses
 * (pipeline/core/addresses.ts) are refused unless --allow-private names their host or range.
 * The check runs on the address the connection is actually made to (inside DNS lookup, every
 * answer), for every request: pages, robots.txt and each redirect hop. So a public name that
 * resolves to a private address is refused too, and so is a redirect to one.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { UserError } from '../core/errors.js';
import { isReservedAddress } from '../core/addresses.js';

export class PrivateAddressError extends Error {
  readonly code = 'REFINERY_PRIVATE_ADDRESS';
}

const bare = (host: string) => host.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();

/**
 * Check and normalize --allow-private entries: host names, IP addresses and CIDR ranges
 * (10.0.0.0/8, fd00::/8). A UserError names the first entry that is none of these.
 */
export function parseAllowPrivate(entries: string[]): string[] {
  return entries.map((raw) => {
    const entry = bare(raw.trim());
    const bad = (why: string) => new UserError(`--allow-private: "${raw}" ${why}`);
    const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
    if (cidr) {
      const family = isIP(cidr[1]);
      const prefix = Number(cidr[2]);
      if (family === 0 || prefix > (family === 4 ? 32 : 128)) throw bad('is not a CIDR range (such as 10.0.0.0/8 or fd00::/8)');
      return `${cidr[1]}/${prefix}`;
    }
    if (isIP(entry)) return entry;
    if (/^[^:]+:\d+$/.test(entry)) throw bad('has a port: give the host without a port');
    if (!/^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/.test(entry)) throw bad('is not a host name, an IP address or a CIDR range');
    return entry;
  });
}

export class AddressGuard {
  private readonly names = new Set<string>();
  private readonly ranges = new BlockList();

  /** `allowed`: entries as parseAllowPrivate returns them. */
  constructor(allowed: string[]) {
    for (const entry of allowed) {
      const [net, prefix] = entry.split('/');
      const family = isIP(net) === 4 ? 'ipv4' : 'ipv6';
      if (prefix !== undefined) this.ranges.addSubnet(net, Number(prefix), family);
      else if (isIP(net)) this.ranges.addAddress(net, family);
      else this.names.add(net);
    }
  }

  /** Why a connection to `address` for the URL host `hostname` is refused, or null when it may go ahead. */
  refusal(hostname: string, address: string): string | null {
    if (!isReservedAddress(address)) return null;
    const host = bare(hostname);
    if (this.names.has(host)) return null;
    const family = isIP(address) === 4 ? 'ipv4' : 'ipv6';
    // An IPv4-mapped address is the IPv4 host itself (the socket connects to it directly).
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    if (this.ranges.check(address, family) || (mapped !== undefined && this.ranges.check(mapped, 'ipv4'))) return null;
    const what = host === bare(address) ? `${address} is a private address` : `${host} resolves to the private address ${address}`;
    return `${what} (to crawl it, name it or its range in --allow-private)`;
  }

  /** Refusal of a URL whose host is an IP address, known before any connection; null for host names. */
  literalRefusal(url: URL): string | null {
    const host = bare(url.hostname);
    return isIP(host) ? this.refusal(host, host) : null;
  }

  /** A `dns.lookup` replacement for undici's connector: every answer must pass the guard. */
  readonly lookup = (hostname: string, options: object, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, []);
      if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname}: no addresses`), { code: 'ENOTFOUND' }), []);
      for (const a of addresses) {
        const why = this.refusal(hostname, a.address);
        if (why) return callback(new PrivateAddressError(why), []);
      }
      if ((options as { all?: boolean }).all) return callback(null, addresses);
      return callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
