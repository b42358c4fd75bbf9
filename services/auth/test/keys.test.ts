import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { ConfigError } from '@orderbook/server-kit';
import { KEY_FILE_NAME, KeyRing, type KeyRingOptions } from '../src/keys';
import { tempDir } from './helpers';

const DAY = 86_400_000;
const silent = { info: () => undefined, warn: () => undefined };

async function kidOf(key: KeyObject): Promise<string> {
  const { x } = await exportJWK(key);
  return calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: x ?? '' });
}

describe('KeyRing', () => {
  let dir: { path: string; remove(): Promise<void> };
  let options: KeyRingOptions;
  beforeEach(async () => {
    dir = await tempDir();
    options = { dataDir: dir.path, previousKeyFiles: [], rotationDays: 30, retentionMs: 1000 * 1000, logger: silent };
  });
  afterEach(() => dir.remove());

  describe('generated keys', () => {
    it('generates a key on first start and persists it privately (0600)', async () => {
      const ring = await KeyRing.load(options);
      const file = join(dir.path, KEY_FILE_NAME);
      expect((await stat(file)).mode & 0o777).to.equal(0o600);
      const published = ring.publishedKeys();
      expect(published).to.have.length(1);
      expect(published[0]?.kid).to.equal(ring.signingKey().kid);
      expect(published[0]?.kid).to.equal(await kidOf(ring.signingKey().privateKey));
      expect(await readFile(file, 'utf8')).to.include(ring.signingKey().kid);
    });

    it('loads the same key on the next start', async () => {
      const first = await KeyRing.load(options);
      const second = await KeyRing.load(options);
      expect(second.signingKey().kid).to.equal(first.signingKey().kid);
    });

    it('rotates on demand and keeps publishing the old key for the retention period', async () => {
      const t0 = Date.now();
      const ring = await KeyRing.load(options, t0);
      const old = ring.signingKey();
      await ring.rotate(t0 + 10);
      expect(ring.signingKey().kid).not.to.equal(old.kid);
      expect(ring.publishedKeys(t0 + 20).map((key) => key.kid)).to.deep.equal([ring.signingKey().kid, old.kid]);
      expect(ring.publicKey(old.kid, t0 + 20)).not.to.equal(undefined);
      // After retention (1000 s here) the old key is gone.
      expect(ring.publishedKeys(t0 + 10 + 1000 * 1000).map((key) => key.kid)).to.deep.equal([ring.signingKey().kid]);
      expect(ring.publicKey(old.kid, t0 + 10 + 1000 * 1000)).to.equal(undefined);
    });

    it('persists rotations, and purges expired keys from the file at the next start', async () => {
      const t0 = Date.now();
      const ring = await KeyRing.load(options, t0);
      const old = ring.signingKey().kid;
      await ring.rotate(t0);
      const reloaded = await KeyRing.load(options, t0 + 1);
      expect(reloaded.publishedKeys(t0 + 1).map((key) => key.kid)).to.deep.equal([ring.signingKey().kid, old]);
      await KeyRing.load(options, t0 + 2000 * 1000);
      expect(await readFile(join(dir.path, KEY_FILE_NAME), 'utf8')).not.to.include(old);
    });

    it('rotates a key that reached AUTH_KEY_ROTATION_DAYS, at start or in maintenance', async () => {
      const t0 = Date.now();
      const first = (await KeyRing.load(options, t0)).signingKey().kid;
      const atStart = await KeyRing.load(options, t0 + 31 * DAY);
      expect(atStart.signingKey().kid).not.to.equal(first);
      expect(atStart.publishedKeys(t0 + 31 * DAY).map((key) => key.kid)).to.include(first);

      expect(await atStart.maintain(t0 + 40 * DAY)).to.equal(false);
      expect(await atStart.maintain(t0 + 62 * DAY)).to.equal(true);
    });

    it('never rotates by age when rotationDays is 0', async () => {
      const t0 = Date.now();
      const ring = await KeyRing.load({ ...options, rotationDays: 0 }, t0);
      expect(await ring.maintain(t0 + 3650 * DAY)).to.equal(false);
    });

    it('refuses to start on a damaged key file rather than replacing it', async () => {
      await KeyRing.load(options);
      await writeFile(join(dir.path, KEY_FILE_NAME), '{"keys": [');
      await KeyRing.load(options).then(
        () => expect.fail('loaded'),
        (err: unknown) => expect(err).to.be.instanceOf(Error),
      );
    });
  });

  describe('configured key files', () => {
    async function writeKey(name: string, key: KeyObject, format: 'pem' | 'jwk'): Promise<string> {
      const file = join(dir.path, name);
      const text =
        format === 'pem'
          ? (key.export({ type: key.type === 'private' ? 'pkcs8' : 'spki', format: 'pem' }) as string)
          : JSON.stringify(key.export({ format: 'jwk' }));
      await writeFile(file, text, { mode: 0o600 });
      return file;
    }

    it('signs with AUTH_SIGNING_KEY_FILE (PEM) and publishes AUTH_PREVIOUS_SIGNING_KEY_FILES (public or private, PEM or JWK)', async () => {
      const current = generateKeyPairSync('ed25519');
      const previousA = generateKeyPairSync('ed25519');
      const previousB = generateKeyPairSync('ed25519');
      const ring = await KeyRing.load({
        ...options,
        signingKeyFile: await writeKey('current.pem', current.privateKey, 'pem'),
        previousKeyFiles: [await writeKey('a.pub.pem', previousA.publicKey, 'pem'), await writeKey('b.jwk', previousB.privateKey, 'jwk')],
      });
      expect(ring.signingKey().kid).to.equal(await kidOf(current.publicKey));
      expect(ring.publishedKeys().map((key) => key.kid)).to.deep.equal([
        await kidOf(current.publicKey),
        await kidOf(previousA.publicKey),
        await kidOf(previousB.publicKey),
      ]);
    });

    it('accepts a private JWK as signing key and writes nothing to the data directory', async () => {
      const current = generateKeyPairSync('ed25519');
      const ring = await KeyRing.load({ ...options, signingKeyFile: await writeKey('current.jwk', current.privateKey, 'jwk') });
      expect(ring.signingKey().kid).to.equal(await kidOf(current.publicKey));
      await stat(join(dir.path, KEY_FILE_NAME)).then(
        () => expect.fail('wrote a key file'),
        (err: NodeJS.ErrnoException) => expect(err.code).to.equal('ENOENT'),
      );
    });

    it('cannot be rotated by the service', async () => {
      const file = await writeKey('current.pem', generateKeyPairSync('ed25519').privateKey, 'pem');
      const ring = await KeyRing.load({ ...options, signingKeyFile: file });
      await ring.rotate().then(
        () => expect.fail('rotated'),
        (err: unknown) => expect(err).to.be.instanceOf(ConfigError),
      );
      expect(await ring.maintain(Date.now() + 3650 * DAY)).to.equal(false);
    });

    it('rejects missing, public, non-Ed25519 and garbage key files with a ConfigError naming the variable', async () => {
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const garbage = join(dir.path, 'garbage.pem');
      await writeFile(garbage, 'not a key');
      const cases: Array<[string, RegExp]> = [
        [join(dir.path, 'missing.pem'), /cannot read/],
        [await writeKey('public.pem', generateKeyPairSync('ed25519').publicKey, 'pem'), /public key/],
        [await writeKey('rsa.pem', rsa.privateKey, 'pem'), /not an Ed25519 key/],
        [garbage, /not an Ed25519 key/],
      ];
      for (const [file, message] of cases) {
        await KeyRing.load({ ...options, signingKeyFile: file }).then(
          () => expect.fail(`loaded ${file}`),
          (err: unknown) => {
            expect(err).to.be.instanceOf(ConfigError);
            expect((err as Error).message).to.match(/^AUTH_SIGNING_KEY_FILE: /).and.to.match(message);
          },
        );
      }
    });

    it('warns when a private key file is readable by others', async () => {
      const file = await writeKey('current.pem', generateKeyPairSync('ed25519').privateKey, 'pem');
      await chmod(file, 0o644);
      const warnings: string[] = [];
      await KeyRing.load({ ...options, signingKeyFile: file, logger: { info: () => undefined, warn: (...args: unknown[]) => warnings.push(String(args[1])) } });
      expect(warnings.join()).to.match(/readable by other users/);
    });
  });
});
