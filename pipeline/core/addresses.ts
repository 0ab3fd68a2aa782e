/**
 * IP address ranges that do not identify a host on the public internet: private, loopback,
 * link-local, shared, multicast, reserved and documentation ranges. The crawler refuses
 * them; the PII filter leaves them in text (as datatrove does).
 */
import { BlockList, isIP } from 'node:net';

const reserved = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  reserved.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  reserved.addSubnet(net, prefix, 'ipv6');
}

/** True for addresses in a non-public range (IPv4-mapped IPv6 addresses are checked as IPv4). */
export function isReservedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4mapped) return reserved.check(v4mapped[1], 'ipv4');
  return reserved.check(address, family === 4 ? 'ipv4' : 'ipv6');
}
