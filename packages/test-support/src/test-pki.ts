import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A certificate and its private key as PEM files. */
export interface PemFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * Certificates for TLS tests, made with the `openssl` binary in a test's temp directory: a CA,
 * and leaf certificates it signs for 127.0.0.1 and localhost, usable by servers and clients.
 */
export class TestPki {
  private constructor(
    private readonly dir: string,
    readonly ca: PemFiles,
  ) {}

  /** A new self-signed CA named `name` (files `<name>-ca.crt`, `<name>-ca.key` in dir). */
  static createCa(dir: string, name: string): TestPki {
    const ca = { certFile: join(dir, `${name}-ca.crt`), keyFile: join(dir, `${name}-ca.key`) };
    openssl(['req', '-x509', ...newKey(ca.keyFile), '-out', ca.certFile, '-days', '2', '-subj', `/CN=${name} test CA`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    return new TestPki(dir, ca);
  }

  /** A certificate for `commonName`, valid for 127.0.0.1 and localhost, for servers and clients alike. */
  issue(commonName: string, fileName = commonName): PemFiles {
    const files = { certFile: join(this.dir, `${fileName}.crt`), keyFile: join(this.dir, `${fileName}.key`) };
    const request = join(this.dir, `${fileName}.csr`);
    const extensions = join(this.dir, `${fileName}.ext`);
    writeFileSync(extensions, 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
    openssl(['req', ...newKey(files.keyFile), '-out', request, '-subj', `/CN=${commonName}/O=orderbook tests`]);
    openssl(['x509', '-req', '-in', request, '-CA', this.ca.certFile, '-CAkey', this.ca.keyFile, '-set_serial', `0x${randomBytes(8).toString('hex')}`,
      '-days', '2', '-extfile', extensions, '-out', files.certFile]);
    return files;
  }
}

function newKey(keyFile: string): string[] {
  return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile];
}

function openssl(args: readonly string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}
