import ipaddr from 'ipaddr.js';

/**
 * The address a client is limited by: an IPv4 address as it is (an IPv4-mapped IPv6 address
 * is the IPv4 one), an IPv6 address by its /64, the smallest block a network hands one site,
 * so that a client cannot become 2^64 others by changing its interface id.
 */
export function clientAddress(address: string | undefined): string {
  if (!address || !ipaddr.isValid(address)) return 'unknown';
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const prefix = (parsed as ipaddr.IPv6).parts.slice(0, 4).map((part) => part.toString(16));
  return `${prefix.join(':')}::/64`;
}
