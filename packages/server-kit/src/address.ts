/** A `host:port` dial address split at its last colon; an IPv6 host loses its brackets (`[::1]:50051` → `::1`). */
export function splitHostPort(address: string): { readonly host: string; readonly port: number } {
  const separator = address.lastIndexOf(':');
  return {
    host: address.slice(0, separator).replace(/^\[(.*)\]$/, '$1'),
    port: Number(address.slice(separator + 1)),
  };
}
