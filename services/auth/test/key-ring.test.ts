import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { ConfigError } from '@orderbook/server-kit';
import { Sealer } from '../src/security/sealing';
import { KeyRing, type SharedKeyOptions } from '../src/tokens/key-ring';
import { BACKENDS, openStoreFixture, tempDir, type StoreFixture } from './helpers';

const DAY = 86_400_000;
const LEAD = 600_000;
const RETENTION = 1_000_000;
const silent = { info: () => undefined, warn: () => undefined };

async function kidOf(key: KeyObject): Promise<string> {
  const { x } = await exportJWK(key);
  return calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: x ?? '' });
}

const kids = (ring: KeyRing, nowMs: number): string[] => ring.publishedKeys(nowMs).map((key) => key.kid);

for (const backend of BACKENDS) {
  describe(`KeyRing with keys shared in the database (${backend})`, function () {
    let fixture: StoreFixture;
    const sealer = new Sealer(randomBytes(32));
    const options: SharedKeyOptions = { publishLeadMs: LEAD, retentionMs: RETENTION, rotationDays: 30, logger: silent };
    const T0 = 1_800_000_000_000;

    beforeEach(async function () {
      const opened = await openStoreFixture(backend);
      if (opened === undefined) this.skip();
      fixture = opened;
    });
    afterEach(async () => fixture?.dispose());

    it('creates one first key that signs at once, sealed (never stored in the clear), and every instance loads the same', async () => {
      const a = await KeyRing.shared(fixture.store.signingKeys, sealer, options, T0);
      const b = await KeyRing.shared(fixture.store.signingKeys, sealer, options, T0 + 1);
      expect(a.signingKey(T0).kid).to.equal(b.signingKey(T0).kid);
      expect(kids(a, T0)).to.deep.equal([a.signingKey(T0).kid]);
      expect(a.signingKey(T0).kid).to.equal(await kidOf(a.signingKey(T0).privateKey));
      const [stored] = await fixture.store.signingKeys.all();
      expect(stored?.sealedPrivateKey).to.match(/^v1\./).and.not.include((await exportJWK(a.signingKey(T0).privateKey)).d);
    });

    it('publishes the next key a lead time before any instance signs with it, then keeps the old one published for the retention period', async () => {
      const a = await KeyRing.shared(fixture.store.signingKeys, sealer, options, T0);
      const b = await KeyRing.shared(fixture.store.signingKeys, sealer, options, T0);
      const old = a.signingKey(T0).kid;
      const next = await b.rotate(T0 + 1000);
      expect(next.activatesAtMs).to.equal(T0 + 1000 + LEAD);
      await a.reload();
      for (const ring of [a, b]) {
        // Published at once, signing only from its activation.
        expect(kids(ring, T0 + 1000)).to.deep.equal([old, next.kid]);
        expect(ring.signingKey(next.activatesAtMs - 1).kid).to.equal(old);
        expect(ring.signingKey(next.activatesAtMs).kid).to.equal(next.kid);
        expect(kids(ring, next.activatesAtMs)).to.deep.equal([next.kid, old]);
        expect(ring.publicKey(old, next.activatesAtMs + RETENTION - 1)).to.not.equal(undefined);
        expect(kids(ring, next.activatesAtMs + RETENTION)).to.deep.equal([next.kid]);
      }
      expect((await a.rotate(T0 + 2000)).kid, 'a pending key is not replaced').to.equal(next.kid);
    });

    it('rotates by age (scheduled a lead time ahead) and deletes replaced keys past retention', async () => {
      const ring = await KeyRing.shared(fixture.store.signingKeys, sealer, options, T0);
      const first = ring.signingKey(T0).kid;
      await ring.maintain(T0 + 30 * DAY - LEAD - 1);
      expect(kids(ring, T0 + 30 * DAY - LEAD - 1)).to.deep.equal([first]);
      const due = T0 + 30 * DAY - LEAD;
      await ring.maintain(due);
      const second = kids(ring, due)[1]!;
      expect(ring.signingKey(due + LEAD).kid).to.equal(second);
      await ring.maintain(due + LEAD + RETENTION);
      expect((await fixture.store.signingKeys.all()).map((key) => key.kid)).to.deep.equal([second]);
    });

    it('never rotates by age when rotationDays is 0', async () => {
      const ring = await KeyRing.shared(fixture.store.signingKeys, sealer, { ...options, rotationDays: 0 }, T0);
      await ring.maintain(T0 + 3650 * DAY);
      expect(await fixture.store.signingKeys.all()).to.have.length(1);
    });

    it('refuses to start with another data key than the keys were sealed with', async () => {
      await KeyRing.shared(fixture.store.signingKeys, sealer, options, T0);
      await KeyRing.shared(fixture.store.signingKeys, new Sealer(randomBytes(32)), options, T0).then(
        () => expect.fail('opened'),
        (err: Error) => expect(err.message).to.match(/AUTH_ENCRYPTION_KEY/),
      );
    });
  });
}

describe('KeyRing from configured key files', () => {
  let dir: { path: string; remove(): Promise<void> };
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(() => dir.remove());

  async function writeKey(name: string, key: KeyObject, format: 'pem' | 'jwk'): Promise<string> {
    const file = join(dir.path, name);
    const text =
      format === 'pem' ? (key.export({ type: key.type === 'private' ? 'pkcs8' : 'spki', format: 'pem' }) as string) : JSON.stringify(key.export({ format: 'jwk' }));
    await writeFile(file, text, { mode: 0o600 });
    return file;
  }

  it('signs with AUTH_SIGNING_KEY_FILE and publishes AUTH_PREVIOUS_SIGNING_KEY_FILES (public or private, PEM or JWK)', async () => {
    const current = generateKeyPairSync('ed25519');
    const previousA = generateKeyPairSync('ed25519');
    const previousB = generateKeyPairSync('ed25519');
    const ring = await KeyRing.fromFiles({
      signingKeyFile: await writeKey('current.jwk', current.privateKey, 'jwk'),
      previousKeyFiles: [await writeKey('a.pub.pem', previousA.publicKey, 'pem'), await writeKey('b.jwk', previousB.privateKey, 'jwk')],
      logger: silent,
    });
    expect(ring.signingKey().kid).to.equal(await kidOf(current.publicKey));
    expect(ring.publishedKeys().map((key) => key.kid)).to.deep.equal([await kidOf(current.publicKey), await kidOf(previousA.publicKey), await kidOf(previousB.publicKey)]);
    expect(ring.reloadIntervalMs()).to.equal(undefined);
  });

  it('cannot be rotated by the service', async () => {
    const ring = await KeyRing.fromFiles({ signingKeyFile: await writeKey('current.pem', generateKeyPairSync('ed25519').privateKey, 'pem'), previousKeyFiles: [], logger: silent });
    await ring.rotate().then(
      () => expect.fail('rotated'),
      (err: unknown) => expect(err).to.be.instanceOf(ConfigError),
    );
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
      await KeyRing.fromFiles({ signingKeyFile: file, previousKeyFiles: [], logger: silent }).then(
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
    await KeyRing.fromFiles({ signingKeyFile: file, previousKeyFiles: [], logger: { warn: (...args: unknown[]) => warnings.push(String(args[1])) } });
    expect(warnings.join()).to.match(/readable by other users/);
  });
});
