import { isIP } from 'node:net';
import type { Metadata } from '@grpc/grpc-js';
import { ConfigError, type ConfigReader } from './config-table';

/** The metadata key in which a trusted proxy (the HTTP gateway) names the client it calls for. */
export const FORWARDED_FOR = 'x-forwarded-for';

/**
 * The IP address of a grpc-js peer ("1.2.3.4:5678", "ipv4:1.2.3.4:5678", "[::1]:5678", "::1:5678",
 * "ipv6:[2001:db8::1]:443") without the port, IPv4-mapped IPv6 unmapped: many connections from one
 * host are one client.
 */
export function peerAddress(peer: string): string {
  const withoutScheme = peer.replace(/^(ipv4|ipv6):/, '');
  const bracketed = /^\[(.*)\](:\d+)?$/.exec(withoutScheme);
  const colon = withoutScheme.lastIndexOf(':');
  // In "::1:5000" as in "1.2.3.4:5000" the port follows the last colon.
  const host = bracketed ? (bracketed[1] ?? withoutScheme) : colon > 0 && /^\d+$/.test(withoutScheme.slice(colon + 1)) ? withoutScheme.slice(0, colon) : withoutScheme;
  return unmapped(host);
}

/** An IPv4-mapped IPv6 address ("::ffff:1.2.3.4", as a dual-stack socket reports it) as IPv4; any other as it is. */
export function unmapped(address: string): string {
  return address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
}

/**
 * Who a call comes from, for per-client limits: the TCP peer, or, when the peer is a trusted proxy,
 * the last address of its `x-forwarded-for` metadata (the one the proxy itself saw). Anyone else's
 * `x-forwarded-for` is ignored, so a client cannot pose as another by sending it.
 */
export class ClientAddresses {
  constructor(private readonly trustedProxies: ReadonlySet<string>) {}

  of(call: { getPeer(): string; readonly metadata: Metadata }): string {
    const [value] = call.metadata.get(FORWARDED_FOR);
    return this.resolve(peerAddress(call.getPeer()), typeof value === 'string' ? value : undefined);
  }

  /** The client behind peer (an IP address without port) given the x-forwarded-for value it sent, if any. */
  resolve(peer: string, forwardedFor: string | undefined): string {
    const address = unmapped(peer);
    if (!this.trustedProxies.has(address) || forwardedFor === undefined) return address;
    const forwarded = unmapped(forwardedFor.split(',').pop()?.trim() ?? '');
    return isIP(forwarded) === 0 ? address : forwarded;
  }
}

/** The trusted proxies of a comma-separated list of IP addresses ("" trusts none); ConfigError naming the variable for anything else. */
export function readTrustedProxies<Name extends string>(vars: ConfigReader<Name>, name: Name): ReadonlySet<string> {
  const entries = vars.string(name).split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  const bad = entries.find((entry) => isIP(entry) === 0);
  if (bad !== undefined) throw new ConfigError(`${name}: "${bad.slice(0, 64)}" is not an IP address (a comma-separated list of the proxies' addresses)`);
  return new Set(entries.map(unmapped));
}
