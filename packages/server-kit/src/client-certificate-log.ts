import * as grpc from '@grpc/grpc-js';
import type { Logger } from './logger';

/** Connections remembered as already logged; the oldest are forgotten first (a connection is then logged again). */
const CONNECTIONS_REMEMBERED = 10_000;

/**
 * With mutual TLS: logs the verified client certificate's subject once per connection (grpc-js
 * shows the connection to interceptors only, so the first call on a connection logs it).
 */
export function clientCertificateLog(logger: Logger): grpc.ServerInterceptor {
  const logged = new Set<string>();
  return (_method, call) => {
    const { remoteAddress, remotePort } = call.getConnectionInfo();
    const connection = `${remoteAddress ?? '?'}:${remotePort ?? '?'}`;
    if (!logged.has(connection)) {
      logged.add(connection);
      if (logged.size > CONNECTIONS_REMEMBERED) logged.delete(logged.values().next().value as string);
      const certificate = call.getAuthContext().sslPeerCertificate;
      logger.info(
        {
          peer: connection,
          subject: certificate?.subject === undefined ? undefined : distinguishedName(certificate.subject),
          issuer: certificate?.issuer === undefined ? undefined : distinguishedName(certificate.issuer),
          fingerprint256: certificate?.fingerprint256,
        },
        'client certificate authenticated',
      );
    }
    return new grpc.ServerInterceptingCall(call);
  };
}

function distinguishedName(fields: object): string {
  return Object.entries(fields)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : String(value)}`)
    .join(', ');
}
