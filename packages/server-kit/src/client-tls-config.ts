import { resolve } from 'node:path';
import { splitHostPort } from './address';
import type { ClientTlsFiles } from './client-tls';
import { ConfigError, ConfigReader, type ConfigVariable, type Env } from './config-table';
import { isLoopback } from './server-transport-config';

const SUFFIXES = ['TLS_CA_FILE', 'TLS_CERT_FILE', 'TLS_KEY_FILE', 'TLS_SERVER_NAME', 'ALLOW_PLAINTEXT'] as const;

export type ClientTlsVariable<P extends string> = `${P}_${(typeof SUFFIXES)[number]}`;

/** Who dials whom, for the meanings of the variables: e.g. matching dialling auth at AUTH_ADDRESS. */
export interface Dialling {
  readonly client: string;
  readonly server: string;
  readonly addressVariable: string;
}

/** The rows of a service's configuration table for how it dials another service (`<PREFIX>_TLS_...`). */
export function clientTlsVariables<P extends string>(prefix: P, dialling: Dialling): readonly (ConfigVariable & { readonly name: ClientTlsVariable<P> })[] {
  const { client, server, addressVariable } = dialling;
  const rows: Readonly<Record<(typeof SUFFIXES)[number], readonly [string, string]>> = {
    TLS_CA_FILE: ['', `CA certificates (PEM) that the ${server} service's certificate must chain to: set, ${client} dials ${addressVariable} over TLS only (a certificate that does not verify fails the connection, logged; never a plaintext fallback).`],
    TLS_CERT_FILE: ['', `Client certificate (PEM) ${client} presents to ${server} when it requires mutual TLS; with ${prefix}_TLS_KEY_FILE and ${prefix}_TLS_CA_FILE. Read again when it changes (checked every second) or on SIGHUP, for new connections.`],
    TLS_KEY_FILE: ['', `Private key (PEM) of ${prefix}_TLS_CERT_FILE.`],
    TLS_SERVER_NAME: ['', `Name the ${server} service's certificate must carry when it is not ${addressVariable}'s host (e.g. dialling by IP address).`],
    ALLOW_PLAINTEXT: ['false', `true lets ${client} dial a non-loopback ${addressVariable} without TLS; otherwise start-up refuses (tokens, passwords or keys would cross the network readable and forgeable).`],
  };
  return SUFFIXES.map((suffix) => ({ name: `${prefix}_${suffix}` as const, default: rows[suffix][0], meaning: rows[suffix][1] }));
}

/**
 * How to dial address: the TLS files, or undefined for plaintext, which only a loopback address
 * gets unless `<PREFIX>_ALLOW_PLAINTEXT=true`. Throws ConfigError naming the variable otherwise.
 */
export function readClientTls<P extends string>(prefix: P, dialling: Dialling, address: string, env: Env): ClientTlsFiles | undefined {
  const vars = new ConfigReader<ClientTlsVariable<P>>(clientTlsVariables(prefix, dialling), env);
  const name = (suffix: (typeof SUFFIXES)[number]): ClientTlsVariable<P> => `${prefix}_${suffix}`;
  const caFile = vars.optionalString(name('TLS_CA_FILE'));
  const certFile = vars.optionalString(name('TLS_CERT_FILE'));
  const keyFile = vars.optionalString(name('TLS_KEY_FILE'));
  const serverName = vars.optionalString(name('TLS_SERVER_NAME'));
  if ((certFile === undefined) !== (keyFile === undefined)) throw new ConfigError(`${name('TLS_CERT_FILE')} and ${name('TLS_KEY_FILE')}: set both or neither`);
  if (caFile === undefined) {
    if (certFile !== undefined || serverName !== undefined) throw new ConfigError(`${name('TLS_CA_FILE')}: required with the other ${prefix}_TLS_ variables`);
    if (!isLoopback(splitHostPort(address).host) && vars.oneOf(name('ALLOW_PLAINTEXT'), ['true', 'false']) !== 'true') {
      throw new ConfigError(`${dialling.addressVariable} ${address} is not a loopback address: set ${name('TLS_CA_FILE')} to reach ${dialling.server} over TLS, or ${name('ALLOW_PLAINTEXT')}=true`);
    }
    return undefined;
  }
  return {
    caFile: resolve(caFile),
    ...(certFile === undefined || keyFile === undefined ? {} : { certFile: resolve(certFile), keyFile: resolve(keyFile) }),
    ...(serverName === undefined ? {} : { serverName }),
  };
}
