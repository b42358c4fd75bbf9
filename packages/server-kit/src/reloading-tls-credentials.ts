import { unwatchFile, watchFile } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { ServerCredentials } from '@grpc/grpc-js';
import { ConfigError } from './config-table';
import { readPemFile } from './pem-file';
import type { Logger } from './logger';
import type { ServerTlsFiles } from './server-transport-config';

/** How often the certificate files are checked for a change. */
const WATCH_INTERVAL_MS = 1000;

/**
 * TLS server credentials read from PEM files that can be replaced while serving: reload() reads
 * them again and, if they form a valid pair, gives them to the listening server, which uses them
 * for new connections (open ones keep theirs). A broken replacement (a key that does not match,
 * a half-written file) is logged and the previous certificate stays.
 */
export class ReloadingTlsCredentials extends ServerCredentials {
  private current: SecureContextOptions;

  constructor(
    private readonly files: ServerTlsFiles,
    private readonly logger: Logger,
  ) {
    const mutual = files.clientCaFile !== undefined;
    const initial = readContext(files);
    super({ requestCert: mutual, rejectUnauthorized: mutual }, initial);
    this.current = initial;
    logger.info({ ...describe(initial), mutualTls: mutual }, 'serving TLS');
  }

  /** Reads the files again; true when a new certificate is now served. */
  reload(): boolean {
    let next: SecureContextOptions;
    try {
      next = readContext(this.files);
    } catch (err) {
      this.logger.error({ err: (err as Error).message, files: this.files }, 'TLS files could not be reloaded: still serving the previous certificate');
      return false;
    }
    if (sameContext(next, this.current)) return false;
    this.current = next;
    this.updateSecureContextOptions(next);
    this.logger.info(describe(next), 'TLS certificate reloaded: new connections use it');
    return true;
  }

  /** Reloads when a file changes (polled) and on SIGHUP; returns the function that stops watching. */
  watch(): () => void {
    const onChange = (): void => {
      this.reload();
    };
    const paths = [this.files.certFile, this.files.keyFile, ...(this.files.clientCaFile === undefined ? [] : [this.files.clientCaFile])];
    for (const path of paths) watchFile(path, { interval: WATCH_INTERVAL_MS, persistent: false }, onChange);
    process.on('SIGHUP', onChange);
    return () => {
      for (const path of paths) unwatchFile(path, onChange);
      process.off('SIGHUP', onChange);
    };
  }

  _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}

function readContext(files: ServerTlsFiles): SecureContextOptions {
  const context: SecureContextOptions = {
    cert: readPemFile(files.certFile),
    key: readPemFile(files.keyFile),
    ...(files.clientCaFile === undefined ? {} : { ca: readPemFile(files.clientCaFile) }),
  };
  try {
    // Throws for a key that does not match the certificate, or a file that is not PEM.
    createSecureContext(context);
    new X509Certificate(context.cert as Buffer);
  } catch (err) {
    throw new ConfigError(`TLS: ${files.certFile} and ${files.keyFile} are not a usable certificate and key: ${(err as Error).message}`);
  }
  return context;
}

function sameContext(a: SecureContextOptions, b: SecureContextOptions): boolean {
  const same = (x: unknown, y: unknown): boolean => (x === undefined ? y === undefined : y !== undefined && (x as Buffer).equals(y as Buffer));
  return same(a.cert, b.cert) && same(a.key, b.key) && same(a.ca, b.ca);
}

function describe(context: SecureContextOptions): Record<string, string> {
  const cert = new X509Certificate(context.cert as Buffer);
  return { subject: cert.subject.replaceAll('\n', ', '), issuer: cert.issuer.replaceAll('\n', ', '), validTo: cert.validTo, fingerprint256: cert.fingerprint256 };
}
