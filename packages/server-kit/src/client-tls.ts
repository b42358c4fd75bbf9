import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkServerIdentity, connect } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { splitHostPort } from './address';
import type { Logger } from './logger';
import { ReloadingClientCertificates } from './reloading-client-certificates';

/** PEM files of a TLS client: the CA the server's certificate must chain to, and optionally a client certificate (mutual TLS). */
export interface ClientTlsFiles {
  readonly caFile: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  /** The name the server's certificate must carry, when it is not the host dialled. */
  readonly serverName?: string;
}

export interface ClientTlsChannel {
  readonly credentials: grpc.ChannelCredentials;
  readonly options: grpc.ChannelOptions;
  /**
   * Why a TLS handshake with address fails (e.g. "self-signed certificate in certificate chain"),
   * or undefined when it succeeds: grpc-js reports only "No connection established", so a caller
   * whose call failed asks this to log the cause.
   */
  diagnose(address: string): Promise<string | undefined>;
}

/** How long diagnose() waits for a handshake. */
const DIAGNOSE_TIMEOUT_MS = 5000;

/**
 * A channel that dials over TLS only: a certificate that does not verify fails the connection, there
 * is no plaintext fallback. The files may be replaced while it runs (certificate rotation): each new
 * connection uses them as they are then.
 */
export function clientTlsChannel(files: ClientTlsFiles, logger: Logger): ClientTlsChannel {
  const certificates = new ReloadingClientCertificates(files, logger);
  const credentials = grpc.experimental.createCertificateProviderChannelCredentials(certificates, files.certFile === undefined ? null : certificates);
  return {
    credentials,
    options: files.serverName === undefined ? {} : { 'grpc.ssl_target_name_override': files.serverName },
    diagnose: (address) => handshakeFailure(address, files),
  };
}

function handshakeFailure(address: string, files: ClientTlsFiles): Promise<string | undefined> {
  const { host, port } = splitHostPort(address);
  const servername = files.serverName ?? host;
  return new Promise((resolve) => {
    const socket = connect({
      host,
      port,
      ca: readFileSync(files.caFile),
      ...(files.certFile === undefined || files.keyFile === undefined ? {} : { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) }),
      ...(isIP(servername) === 0 ? { servername } : {}),
      checkServerIdentity: (_host, cert) => checkServerIdentity(servername, cert),
      ALPNProtocols: ['h2'],
      timeout: DIAGNOSE_TIMEOUT_MS,
    });
    const done = (why: string | undefined): void => {
      socket.destroy();
      resolve(why);
    };
    socket.once('secureConnect', () => done(undefined));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === undefined ? err.message : `${err.message} (${err.code})`));
    socket.once('timeout', () => done(`no TLS handshake within ${DIAGNOSE_TIMEOUT_MS} ms`));
  });
}

