import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { experimental } from '@grpc/grpc-js';
import type { ClientTlsFiles } from './client-tls';
import { ConfigError } from './config-table';
import type { Logger } from './logger';

type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

/** How often the files are checked for a change while a connection may need them. */
const WATCH_INTERVAL_MS = 1000;

interface ClientCertificates {
  readonly ca: Buffer;
  readonly identity?: { readonly certificate: Buffer; readonly privateKey: Buffer };
}

/**
 * The CA and client certificate of a TLS client, read from PEM files that can be replaced while
 * the process runs: new connections use the files as they are then (open ones keep theirs). A
 * broken replacement (a key that does not match, a half-written file) is logged and the previous
 * certificates stay. Files are watched (and SIGHUP heard) only while grpc-js holds a listener,
 * that is while the channel has connections to make, so a closed channel leaves nothing behind.
 */
export class ReloadingClientCertificates implements experimental.CertificateProvider {
  private current: ClientCertificates;
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();
  private stopWatching: (() => void) | undefined;

  constructor(
    private readonly files: ClientTlsFiles,
    private readonly logger: Logger,
  ) {
    this.current = readClientCertificates(files);
  }

  /** Reads the files again; true when new certificates are now used for new connections. */
  reload(): boolean {
    let next: ClientCertificates;
    try {
      next = readClientCertificates(this.files);
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'client TLS files could not be reloaded: new connections keep the previous certificates');
      return false;
    }
    if (same(next, this.current)) return false;
    this.current = next;
    for (const listener of this.caListeners) listener({ caCertificate: next.ca });
    if (next.identity !== undefined) for (const listener of this.identityListeners) listener({ ...next.identity });
    this.logger.info({ caFile: this.files.caFile, certFile: this.files.certFile }, 'client TLS certificates reloaded: new connections use them');
    return true;
  }

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    this.listening();
    listener({ caCertificate: this.current.ca });
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
    this.maybeStopWatching();
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    this.listening();
    listener(this.current.identity === undefined ? null : { ...this.current.identity });
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
    this.maybeStopWatching();
  }

  /** The first listener after a quiet spell re-reads the files: they may have changed unwatched. */
  private listening(): void {
    if (this.stopWatching !== undefined) return;
    this.reload();
    const onChange = (): void => {
      this.reload();
    };
    const paths = [this.files.caFile, ...(this.files.certFile === undefined ? [] : [this.files.certFile]), ...(this.files.keyFile === undefined ? [] : [this.files.keyFile])];
    for (const path of paths) watchFile(path, { interval: WATCH_INTERVAL_MS, persistent: false }, onChange);
    process.on('SIGHUP', onChange);
    this.stopWatching = () => {
      for (const path of paths) unwatchFile(path, onChange);
      process.off('SIGHUP', onChange);
    };
  }

  private maybeStopWatching(): void {
    if (this.caListeners.size > 0 || this.identityListeners.size > 0) return;
    this.stopWatching?.();
    this.stopWatching = undefined;
  }
}

function readClientCertificates(files: ClientTlsFiles): ClientCertificates {
  const read = (path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError(`TLS: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  };
  const ca = read(files.caFile);
  const identity = files.certFile === undefined || files.keyFile === undefined ? undefined : { certificate: read(files.certFile), privateKey: read(files.keyFile) };
  try {
    // Throws for a file that is not PEM or a key that does not match the certificate.
    createSecureContext({ ca, ...(identity === undefined ? {} : { cert: identity.certificate, key: identity.privateKey }) });
    new X509Certificate(ca);
    if (identity !== undefined) new X509Certificate(identity.certificate);
  } catch (err) {
    throw new ConfigError(`TLS: ${[files.caFile, files.certFile, files.keyFile].filter((f) => f !== undefined).join(', ')} are not a usable CA, certificate and key: ${(err as Error).message}`);
  }
  return { ca, ...(identity === undefined ? {} : { identity }) };
}

function same(a: ClientCertificates, b: ClientCertificates): boolean {
  return a.ca.equals(b.ca) && (a.identity === undefined ? b.identity === undefined : b.identity !== undefined && a.identity.certificate.equals(b.identity.certificate) && a.identity.privateKey.equals(b.identity.privateKey));
}
