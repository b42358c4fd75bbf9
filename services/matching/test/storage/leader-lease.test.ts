import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { LeaderLease, type LeaseConfig } from '../../src/storage/leader-lease';
import { silentLogger } from '../helpers';

/** The machine's NATS server (JetStream on); each test uses a bucket of its own, deleted afterwards. */
const NATS_SERVERS = ['nats://127.0.0.1:4222'];

/** The first value probe gives that is not undefined; a bound on a test that would otherwise hang, not a timing check. */
async function eventually<T>(probe: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> {
  for (let attempt = 0; attempt < 400; attempt++) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(25);
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe('LeaderLease (a NATS KV key with a TTL)', () => {
  const connections: NatsConnection[] = [];
  const buckets: string[] = [];
  const leases: LeaderLease[] = [];

  afterEach(async () => {
    for (const lease of leases.splice(0)) await lease.release();
    const nc = await connect({ servers: NATS_SERVERS });
    const jsm = await jetstreamManager(nc);
    for (const bucket of buckets.splice(0)) await jsm.streams.delete(`KV_${bucket}`).catch(() => undefined);
    await nc.close();
    for (const c of connections.splice(0)) await c.close().catch(() => undefined);
  });

  async function newConfig(ttlMs = 1_000): Promise<LeaseConfig> {
    const bucket = `lease_test_${randomUUID().slice(0, 8)}`;
    buckets.push(bucket);
    return { bucket, key: 'leader', ttlMs, renewEveryMs: Math.round(ttlMs / 3), replicas: 1 };
  }

  async function openLease(config: LeaseConfig, address: string): Promise<{ lease: LeaderLease; nc: NatsConnection }> {
    const nc = await connect({ servers: NATS_SERVERS });
    connections.push(nc);
    const lease = await LeaderLease.open(nc, config, { id: randomUUID(), address }, silentLogger);
    leases.push(lease);
    return { lease, nc };
  }

  const neverLost = { onLost: (why: string) => expect.fail(`lease lost: ${why}`) };

  it('is taken by one node at a time, names its holder, and passes on when released', async () => {
    const config = await newConfig(5_000);
    const a = await openLease(config, 'a:1');
    const b = await openLease(config, 'b:2');
    expect(await a.lease.holder()).to.equal(undefined);
    expect(await a.lease.tryAcquire(neverLost)).to.equal(true);
    expect(a.lease.isHeld()).to.equal(true);
    expect(await b.lease.tryAcquire(neverLost)).to.equal(false);
    expect(b.lease.isHeld()).to.equal(false);
    expect((await b.lease.holder())?.address).to.equal('a:1');

    await a.lease.release();
    expect(a.lease.isHeld()).to.equal(false);
    expect(await b.lease.holder()).to.equal(undefined);
    expect(await b.lease.tryAcquire(neverLost)).to.equal(true);
    expect((await a.lease.holder())?.address).to.equal('b:2');
  });

  it('is kept by renewals for longer than its TTL', async () => {
    const config = await newConfig(600);
    const a = await openLease(config, 'a:1');
    const b = await openLease(config, 'b:2');
    let renewals = 0;
    expect(await a.lease.tryAcquire({ ...neverLost, onRenewed: () => (renewals += 1) })).to.equal(true);
    // Six renewals span more than two TTLs: the lease would have expired without them.
    await eventually(() => (renewals >= 6 ? true : undefined), 'six renewals');
    expect(await b.lease.tryAcquire(neverLost)).to.equal(false);
    expect(a.lease.isHeld()).to.equal(true);
  });

  it('is lost by a holder that cannot renew, and expires for another to take', async () => {
    const config = await newConfig(600);
    const a = await openLease(config, 'a:1');
    const b = await openLease(config, 'b:2');
    let lost: string | undefined;
    expect(await a.lease.tryAcquire({ onLost: (why) => (lost = why) })).to.equal(true);
    await a.nc.close();
    expect(await eventually(() => lost, 'the lease lost')).to.match(/local deadline/);
    expect(a.lease.isHeld()).to.equal(false);
    await eventually(async () => ((await b.lease.tryAcquire(neverLost)) ? true : undefined), 'the expired lease taken by b');
    expect((await b.lease.holder())?.address).to.equal('b:2');
  });
});
