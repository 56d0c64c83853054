/** A TCP address split into host and port. */
export interface HostPort {
  host: string;
  port: number;
}

/**
 * Parses `host:port` (IPv6 hosts in brackets: `[::1]:6379`), as toxiproxy's `listen` and `upstream` fields.
 * Returns undefined when `value` is not of that shape or the port is outside `minPort..65535`.
 * @internal
 */
export function parseHostPort(value: unknown, minPort: number): HostPort | undefined {
  if (typeof value !== 'string') return undefined;
  const colon = value.lastIndexOf(':');
  if (colon <= 0) return undefined;
  let host = value.slice(0, colon);
  const portText = value.slice(colon + 1);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  else if (host.includes(':')) return undefined;
  if (host.length === 0 || !/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  return port >= minPort && port <= 65535 ? { host, port } : undefined;
}

/** Formats an address as `host:port`, bracketing IPv6 hosts. @internal */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
