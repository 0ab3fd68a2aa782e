/**
 * Refusing private, loopback and link-local addresses. The check runs on the address the
 * connection is actually made to (inside DNS lookup), so a public name that resolves to a
 * private address is refused too.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isReservedAddress } from '../core/addresses.js';

export const isPrivateAddress = isReservedAddress;

export class PrivateAddressError extends Error {
  readonly code = 'REFINERY_PRIVATE_ADDRESS';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `dns.lookup` replacement for undici's connector that refuses private addresses. */
export function guardedLookup(hostname: string, options: object, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, []);
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad) return callback(new PrivateAddressError(`${hostname} resolves to the private address ${bad.address} (use --allow-private to crawl it)`), []);
    if ((options as { all?: boolean }).all) return callback(null, addresses);
    return callback(null, addresses[0].address, addresses[0].family);
  });
}
