import { accessSync, constants } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import type { ServerOptions } from '@grpc/grpc-js';
import { ConfigError, ConfigReader, type ConfigVariable, type Env } from './config-table';

/**
 * How a gRPC server meets its clients, read from `<PREFIX>_...` variables that both services
 * share: TLS (optionally mutual), the plaintext guard, and the HTTP/2 connection options.
 */

/** PEM files of a TLS server; with clientCaFile the server requires client certificates signed by it. */
export interface ServerTlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientCaFile?: string;
}

export interface ServerTransport {
  /** Undefined: plaintext (loopback only, unless explicitly allowed). */
  readonly tls?: ServerTlsFiles;
  /** grpc-js server options: message sizes, keepalive, connection age and idle limits, streams per connection. */
  readonly options: ServerOptions;
}

const SUFFIXES = [
  'TLS_CERT_FILE',
  'TLS_KEY_FILE',
  'TLS_CLIENT_CA_FILE',
  'ALLOW_PLAINTEXT',
  'GRPC_MAX_RECEIVE_MESSAGE_BYTES',
  'GRPC_MAX_SEND_MESSAGE_BYTES',
  'GRPC_KEEPALIVE_TIME_MS',
  'GRPC_KEEPALIVE_TIMEOUT_MS',
  'GRPC_MAX_CONNECTION_IDLE_MS',
  'GRPC_MAX_CONNECTION_AGE_MS',
  'GRPC_MAX_CONNECTION_AGE_GRACE_MS',
  'GRPC_MAX_CONCURRENT_STREAMS',
] as const;

export type ServerTransportVariable<P extends string> = `${P}_${(typeof SUFFIXES)[number]}`;

/** The rows of a service's configuration table for its server transport. */
export function serverTransportVariables<P extends string>(prefix: P): readonly (ConfigVariable & { readonly name: ServerTransportVariable<P> })[] {
  const rows: Readonly<Record<(typeof SUFFIXES)[number], readonly [string, string]>> = {
    TLS_CERT_FILE: ['', `Server certificate chain (PEM). Set with ${prefix}_TLS_KEY_FILE to serve TLS; the files are read again when they change (checked every second) or on SIGHUP: new connections get the new certificate, open ones go on.`],
    TLS_KEY_FILE: ['', `Private key (PEM) of ${prefix}_TLS_CERT_FILE.`],
    TLS_CLIENT_CA_FILE: ['', `CA certificates (PEM) that client certificates must chain to: set, the server requires and verifies a client certificate on every connection (mutual TLS) and logs each connection's certificate subject. Needs ${prefix}_TLS_CERT_FILE.`],
    ALLOW_PLAINTEXT: ['false', `true lets a server without TLS listen on a non-loopback address (e.g. behind a TLS-terminating proxy); otherwise start-up refuses.`],
    GRPC_MAX_RECEIVE_MESSAGE_BYTES: ['4194304', 'Largest request message accepted (4 MiB); larger ones get RESOURCE_EXHAUSTED.'],
    GRPC_MAX_SEND_MESSAGE_BYTES: ['4194304', 'Largest response message sent (4 MiB).'],
    GRPC_KEEPALIVE_TIME_MS: ['60000', 'The server pings an idle connection this often to find dead peers.'],
    GRPC_KEEPALIVE_TIMEOUT_MS: ['20000', 'A ping unanswered this long closes the connection.'],
    GRPC_MAX_CONNECTION_IDLE_MS: ['0', 'A connection with no call for this long is closed (GOAWAY); 0 never.'],
    GRPC_MAX_CONNECTION_AGE_MS: ['0', 'A connection older than this is asked to go away (GOAWAY) so that clients reconnect and load balancers rebalance; 0 never.'],
    GRPC_MAX_CONNECTION_AGE_GRACE_MS: ['0', `Calls still open when ${prefix}_GRPC_MAX_CONNECTION_AGE_MS passes may finish for this long before the connection is closed; 0 waits for them without bound.`],
    GRPC_MAX_CONCURRENT_STREAMS: ['1000', 'Calls (HTTP/2 streams) one connection may have open at once.'],
  };
  return SUFFIXES.map((suffix) => ({ name: `${prefix}_${suffix}` as const, default: rows[suffix][0], meaning: rows[suffix][1] }));
}

/** Reads the server transport; throws ConfigError naming the variable for a bad value or an unsafe combination. */
export function readServerTransport<P extends string>(prefix: P, host: string, hostVariable: string, env: Env): ServerTransport {
  const vars = new ConfigReader<ServerTransportVariable<P>>(serverTransportVariables(prefix), env);
  const name = (suffix: (typeof SUFFIXES)[number]): ServerTransportVariable<P> => `${prefix}_${suffix}`;
  const certFile = readableFile(vars, name('TLS_CERT_FILE'));
  const keyFile = readableFile(vars, name('TLS_KEY_FILE'));
  const clientCaFile = readableFile(vars, name('TLS_CLIENT_CA_FILE'));
  const allowPlaintext = vars.oneOf(name('ALLOW_PLAINTEXT'), ['true', 'false']) === 'true';
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError(`${name('TLS_CERT_FILE')} and ${name('TLS_KEY_FILE')}: set both or neither`);
  }
  if (clientCaFile !== undefined && certFile === undefined) {
    throw new ConfigError(`${name('TLS_CLIENT_CA_FILE')}: mutual TLS needs ${name('TLS_CERT_FILE')} and ${name('TLS_KEY_FILE')} as well`);
  }
  if (certFile === undefined && !allowPlaintext && !isLoopback(host)) {
    throw new ConfigError(
      `${hostVariable} is ${host}, not a loopback address, and no TLS certificate is set: set ${name('TLS_CERT_FILE')} and ${name('TLS_KEY_FILE')}, or ${name('ALLOW_PLAINTEXT')}=true to serve plaintext on it`,
    );
  }
  const options: ServerOptions = {
    'grpc.max_receive_message_length': vars.int(name('GRPC_MAX_RECEIVE_MESSAGE_BYTES'), 1024, 2 ** 31 - 1),
    'grpc.max_send_message_length': vars.int(name('GRPC_MAX_SEND_MESSAGE_BYTES'), 1024, 2 ** 31 - 1),
    'grpc.keepalive_time_ms': vars.int(name('GRPC_KEEPALIVE_TIME_MS'), 1000, 2 ** 31 - 1),
    'grpc.keepalive_timeout_ms': vars.int(name('GRPC_KEEPALIVE_TIMEOUT_MS'), 1000, 2 ** 31 - 1),
    'grpc.max_concurrent_streams': vars.int(name('GRPC_MAX_CONCURRENT_STREAMS'), 1, 2 ** 31 - 1),
    ...positive('grpc.max_connection_idle_ms', vars.int(name('GRPC_MAX_CONNECTION_IDLE_MS'), 0, 2 ** 31 - 1)),
    ...positive('grpc.max_connection_age_ms', vars.int(name('GRPC_MAX_CONNECTION_AGE_MS'), 0, 2 ** 31 - 1)),
    ...positive('grpc.max_connection_age_grace_ms', vars.int(name('GRPC_MAX_CONNECTION_AGE_GRACE_MS'), 0, 2 ** 31 - 1)),
  };
  return {
    ...(certFile === undefined || keyFile === undefined ? {} : { tls: { certFile, keyFile, ...(clientCaFile === undefined ? {} : { clientCaFile }) } }),
    options,
  };
}

/** grpc-js reads an absent option as "never"; 0 in the table means the same. */
function positive(option: string, value: number): ServerOptions {
  return value > 0 ? { [option]: value } : {};
}

function readableFile<Name extends string>(vars: ConfigReader<Name>, name: Name): string | undefined {
  const file = vars.optionalString(name);
  if (file === undefined) return undefined;
  const path = resolve(file);
  try {
    accessSync(path, constants.R_OK);
  } catch (err) {
    throw new ConfigError(`${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return path;
}

/** 127.0.0.0/8, ::1 and localhost: addresses no other machine can reach. */
export function isLoopback(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare === '0:0:0:0:0:0:0:1';
  return false;
}
