/** The address classification the crawler's guard and the PII filter share, and the guard's allow-list. */
import { describe, expect, it } from 'vitest';
import { embeddedIPv4, isReservedAddress } from '../pipeline/core/addresses.js';
import { AddressGuard, parseAllowPrivate } from '../pipeline/crawl/address.js';

describe('isReservedAddress', () => {
  it('judges plain IPv4 and IPv6 ranges', () => {
    for (const a of ['127.0.0.1', '10.0.0.1', '169.254.169.254', '172.16.5.4', '192.168.1.1', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fe80::1%eth0', 'fd00::1', 'fec0::1', '100::1', '3fff::1', 'ff02::1'])
      expect(isReservedAddress(a), a).toBe(true);
    for (const a of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '2a00:1450:4001::200e']) expect(isReservedAddress(a), a).toBe(false);
    expect(isReservedAddress('not-an-address')).toBe(false);
  });

  it('judges IPv4-mapped and IPv4-compatible addresses by the IPv4 address they carry', () => {
    for (const a of ['::ffff:127.0.0.1', '::ffff:7f00:1', '::FFFF:10.0.0.1', '::ffff:a9fe:a9fe', '::7f00:1', '::127.0.0.1', '::a00:1', '0:0:0:0:0:ffff:c0a8:101'])
      expect(isReservedAddress(a), a).toBe(true);
    expect(isReservedAddress('::ffff:8.8.8.8')).toBe(false);
    expect(embeddedIPv4('::7f00:1')).toEqual(['127.0.0.1']);
    expect(embeddedIPv4('::ffff:a9fe:a9fe')).toEqual(['169.254.169.254']);
  });

  it('judges NAT64 addresses by the IPv4 address they lead to; local-use NAT64 is never public', () => {
    for (const a of ['64:ff9b::127.0.0.1', '64:ff9b::a9fe:a9fe', '64:ff9b::10.0.0.1', '64:ff9b::c0a8:1', '64:ff9b:1::8.8.8.8', '64:ff9b:1:2::1'])
      expect(isReservedAddress(a), a).toBe(true);
    expect(isReservedAddress('64:ff9b::8.8.8.8')).toBe(false);
    expect(embeddedIPv4('64:ff9b::a9fe:a9fe')).toEqual(['169.254.169.254']);
  });

  it('judges 6to4 and Teredo addresses by the IPv4 addresses they embed', () => {
    expect(isReservedAddress('2002:7f00:1::1')).toBe(true);
    expect(isReservedAddress('2002:a00:1::')).toBe(true);
    expect(isReservedAddress('2002:a9fe:a9fe::1')).toBe(true);
    expect(isReservedAddress('2002:808:808::1')).toBe(false);
    expect(embeddedIPv4('2002:a00:1::1')).toEqual(['10.0.0.1']);
    // Teredo: server 65.54.227.120, client 127.0.0.1 then 8.8.8.8 (stored inverted).
    expect(isReservedAddress('2001:0:4136:e378:8000:63bf:80ff:fffe')).toBe(true);
    expect(isReservedAddress('2001:0:4136:e378:8000:63bf:f7f7:f7f7')).toBe(false);
  });
});

describe('AddressGuard', () => {
  it('refuses every reserved address by default', () => {
    const guard = new AddressGuard([]);
    expect(guard.refusal('8.8.8.8', '8.8.8.8')).toBeNull();
    expect(guard.refusal('example.org', '93.184.215.14')).toBeNull();
    expect(guard.refusal('127.0.0.1', '127.0.0.1')).toMatch(/127\.0\.0\.1 is a private address/);
    expect(guard.refusal('evil.example', '169.254.169.254')).toMatch(/evil\.example resolves to the private address 169\.254\.169\.254/);
    expect(guard.refusal('[::ffff:127.0.0.1]', '::ffff:127.0.0.1')).not.toBeNull();
  });

  it('allows only the hosts and ranges it is given', () => {
    const guard = new AddressGuard(parseAllowPrivate(['127.0.0.1', '10.1.0.0/16', 'intranet.example', '[fd00::1]']));
    expect(guard.refusal('127.0.0.1', '127.0.0.1')).toBeNull();
    expect(guard.refusal('[::ffff:127.0.0.1]', '::ffff:127.0.0.1')).toBeNull();
    expect(guard.refusal('127.0.0.2', '127.0.0.2')).not.toBeNull();
    expect(guard.refusal('10.1.2.3', '10.1.2.3')).toBeNull();
    expect(guard.refusal('10.0.0.1', '10.0.0.1')).not.toBeNull();
    expect(guard.refusal('169.254.169.254', '169.254.169.254')).not.toBeNull();
    expect(guard.refusal('Intranet.Example', '10.9.9.9')).toBeNull();
    expect(guard.refusal('other.example', '10.9.9.9')).not.toBeNull();
    expect(guard.refusal('[fd00::1]', 'fd00::1')).toBeNull();
    expect(guard.refusal('[fd00::2]', 'fd00::2')).not.toBeNull();
    // A NAT64 form of an allowed address is not allowed with it: it goes through a translator.
    expect(guard.refusal('[64:ff9b::a01:203]', '64:ff9b::a01:203')).not.toBeNull();
  });

  it('checks every DNS answer, by the name asked for', async () => {
    const lookup = (guard: AddressGuard, name: string) =>
      new Promise<string>((resolve) => guard.lookup(name, {}, (err, address) => resolve(err ? `refused: ${err.message}` : String(address))));
    expect(await lookup(new AddressGuard([]), 'localhost')).toMatch(/^refused: localhost resolves to the private address (127\.0\.0\.1|::1)/);
    expect(await lookup(new AddressGuard(['10.0.0.0/8']), 'localhost')).toMatch(/^refused:/);
    expect(await lookup(new AddressGuard(['localhost']), 'localhost')).toMatch(/^(127\.0\.0\.1|::1)$/);
  });

  it('rejects allow-list entries that are neither hosts nor ranges', () => {
    expect(() => parseAllowPrivate(['10.0.0.0/33'])).toThrow(/10\.0\.0\.0\/33/);
    expect(() => parseAllowPrivate(['127.0.0.1:8080'])).toThrow(/without a port/);
    expect(() => parseAllowPrivate(['http://x/'])).toThrow();
  });
});
