/** PEM files of a TLS client: the CA the server's certificate must chain to, and optionally a client certificate (mutual TLS). */
export interface ClientTlsFiles {
  readonly caFile: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  /** The name the server's certificate must carry, when it is not the host dialled. */
  readonly serverName?: string;
}
