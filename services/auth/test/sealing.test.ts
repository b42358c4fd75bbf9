import { randomBytes } from 'node:crypto';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError } from '@orderbook/server-kit';
import { ENCRYPTION_KEY_FILE_NAME, loadDataKey, parseEncryptionKey, Sealer, UnsealError } from '../src/security/sealing';
import { tempDir } from './helpers';

const silent = { info: () => undefined, warn: () => undefined };

describe('sealing secrets at rest (AES-256-GCM)', () => {
  const sealer = new Sealer(randomBytes(32));

  it('opens what it sealed, in the same context only', () => {
    const sealed = sealer.seal('JBSWY3DPEHPK3PXP', 'totp:user-1');
    expect(sealed).to.match(/^v1\./).and.not.include('JBSWY3DPEHPK3PXP');
    expect(sealer.seal('same', 'ctx')).to.not.equal(sealer.seal('same', 'ctx'));
    expect(sealer.open(sealed, 'totp:user-1')).to.equal('JBSWY3DPEHPK3PXP');
    expect(() => sealer.open(sealed, 'totp:user-2')).to.throw(UnsealError);
  });

  it('refuses another key, a flipped bit, truncation and garbage', () => {
    const sealed = sealer.seal('secret', 'ctx');
    expect(() => new Sealer(randomBytes(32)).open(sealed, 'ctx')).to.throw(UnsealError);
    const bytes = Buffer.from(sealed.slice(3), 'base64url');
    bytes[bytes.length - 1]! ^= 1;
    expect(() => sealer.open(`v1.${bytes.toString('base64url')}`, 'ctx')).to.throw(UnsealError);
    expect(() => sealer.open('v1.AAAA', 'ctx')).to.throw(UnsealError);
    expect(() => sealer.open('plain text', 'ctx')).to.throw(UnsealError);
  });

  it('takes AUTH_ENCRYPTION_KEY as base64 of exactly 32 bytes', () => {
    const key = randomBytes(32);
    expect(parseEncryptionKey(key.toString('base64')).equals(key)).to.equal(true);
    for (const bad of ['short', randomBytes(16).toString('base64'), randomBytes(33).toString('base64'), '!'.repeat(44)]) {
      expect(() => parseEncryptionKey(bad)).to.throw(ConfigError, /^AUTH_ENCRYPTION_KEY: /);
    }
  });

  it('generates a data key once in the data directory (0600) when none is configured, and refuses a damaged one', async () => {
    const dir = await tempDir();
    try {
      const first = await loadDataKey({ dataDir: dir.path, logger: silent });
      expect((await stat(join(dir.path, ENCRYPTION_KEY_FILE_NAME))).mode & 0o777).to.equal(0o600);
      expect((await loadDataKey({ dataDir: dir.path, logger: silent })).equals(first)).to.equal(true);
      const configured = randomBytes(32);
      expect((await loadDataKey({ configured, dataDir: dir.path, logger: silent })).equals(configured)).to.equal(true);
      await writeFile(join(dir.path, ENCRYPTION_KEY_FILE_NAME), 'damaged');
      await loadDataKey({ dataDir: dir.path, logger: silent }).then(
        () => expect.fail('loaded'),
        (err: Error) => expect(err.message).to.match(/restore it/),
      );
    } finally {
      await dir.remove();
    }
  });
});
