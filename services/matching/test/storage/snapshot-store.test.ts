import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { expect } from 'chai';
import { Engine } from '@orderbook/engine';
import { listSnapshots, snapshotPath } from '../../src/storage/data-files';
import { readSnapshot, removeUnfinishedSnapshots, SnapshotCorruptError, writeSnapshot } from '../../src/storage/snapshot-store';
import { rejectionOf, tempDirs } from '../helpers';
import { LOAD_ENGINE_CONFIG } from '../random-load';

const tempDir = tempDirs();

/** An engine after a deposit of 'zoë' (a non-ASCII user id) and a resting order with a client order id. */
function engineWithState(): Engine {
  const engine = new Engine(LOAD_ENGINE_CONFIG);
  const market = LOAD_ENGINE_CONFIG.markets[0]!;
  engine.apply({ kind: 'deposit', seq: 1, timestamp: 10, userId: 'zoë', asset: market.quote, amount: 10n ** 12n });
  const order = { kind: 'placeLimit', seq: 2, timestamp: 11, orderId: 1, userId: 'zoë', market: market.symbol, side: 'buy', price: 1_000_000n,
    quantity: 100_000_000n, timeInForce: 'GTC', postOnly: false, selfTradePrevention: 'cancel_resting', clientOrderId: 'bid-1' } as const;
  expect(engine.apply(order).ok).to.equal(true);
  return engine;
}

describe('snapshot store', () => {
  it('writes a snapshot atomically under its seq and reads it back verified, restoring the same engine', async () => {
    const dir = tempDir();
    const engine = engineWithState();
    await writeSnapshot(dir, { seq: 2, timestamp: 1_700_000_000_123, engineState: engine.snapshot() });
    const files = await listSnapshots(dir);
    expect(files).to.deep.equal([{ seq: 2, path: snapshotPath(dir, 2) }]);
    expect(files[0]!.path).to.match(/snapshot-0{15}2\.snap$/);
    const read = await readSnapshot(files[0]!);
    expect([read.seq, read.timestamp]).to.deep.equal([2, 1_700_000_000_123]);
    expect(Buffer.from(read.engineState).equals(Buffer.from(engine.snapshot()))).to.equal(true);
    expect(Engine.restore(LOAD_ENGINE_CONFIG, read.engineState).stateHash()).to.equal(engine.stateHash());
    expect(readFileSync(files[0]!.path).subarray(0, 8).toString('latin1')).to.equal('OBMSNAP1');
    expect(existsSync(`${files[0]!.path}.tmp`)).to.equal(false);
  });

  it('writes a snapshot larger than the slices it is synced in whole, byte for byte', async () => {
    const dir = tempDir();
    const engine = engineWithState();
    const market = LOAD_ENGINE_CONFIG.markets[0]!;
    // 12,000 resting orders of 68 bytes each in ORDR, of two users (each may rest 10,000 in a market):
    // a few 256 KiB slices and a partial last one.
    for (const userId of ['ann', 'bob']) {
      engine.apply({ kind: 'deposit', seq: engine.lastSeq() + 1, timestamp: 12, userId, asset: market.quote, amount: 10n ** 12n });
    }
    for (let i = 0; i < 12_000; i++) {
      const seq = engine.lastSeq() + 1;
      const order = { kind: 'placeLimit', seq, timestamp: 12, orderId: seq, userId: i % 2 === 0 ? 'ann' : 'bob', market: market.symbol, side: 'buy',
        price: 1_000_000n, quantity: 1_000_000n, timeInForce: 'GTC', postOnly: false, selfTradePrevention: 'cancel_resting' } as const;
      expect(engine.apply(order).ok).to.equal(true);
    }
    const engineState = engine.snapshot();
    expect(engineState.byteLength).to.be.greaterThan(3 * 256 * 1024);
    await writeSnapshot(dir, { seq: engine.lastSeq(), timestamp: 12, engineState });
    const read = await readSnapshot({ seq: engine.lastSeq(), path: snapshotPath(dir, engine.lastSeq()) });
    expect(Buffer.from(read.engineState).equals(Buffer.from(engineState))).to.equal(true);
  });

  it('detects a flipped bit in every byte of the file, every truncation, and a file renamed to another seq', async () => {
    const dir = tempDir();
    await writeSnapshot(dir, { seq: 2, timestamp: 1, engineState: engineWithState().snapshot() });
    const path = snapshotPath(dir, 2);
    const bytes = readFileSync(path);
    for (let at = 0; at < bytes.length; at++) {
      const flipped = Buffer.from(bytes);
      flipped[at]! ^= 1 << at % 8;
      writeFileSync(path, flipped);
      expect(await rejectionOf(readSnapshot({ seq: 2, path })), `bit flipped in byte ${at}`).to.be.instanceOf(SnapshotCorruptError);
    }
    for (const length of [0, 7, 27, 28, 43, bytes.length - 1]) {
      writeFileSync(path, bytes.subarray(0, length));
      expect(await rejectionOf(readSnapshot({ seq: 2, path })), `cut to ${length} bytes`).to.be.instanceOf(SnapshotCorruptError);
    }
    writeFileSync(path, Buffer.concat([bytes, Buffer.from([0])]));
    expect((await rejectionOf(readSnapshot({ seq: 2, path }))).message).to.match(/1 bytes after the last section/);

    writeFileSync(path, bytes);
    renameSync(path, snapshotPath(dir, 8));
    const renamed = await rejectionOf(readSnapshot({ seq: 8, path: snapshotPath(dir, 8) }));
    expect(renamed.message).to.match(/says it is at seq 2, its name says 8/);
  });

  it('refuses a file whose engine state is at another seq than its header', async () => {
    const dir = tempDir();
    await writeSnapshot(dir, { seq: 5, timestamp: 1, engineState: engineWithState().snapshot() });
    const error = await rejectionOf(readSnapshot({ seq: 5, path: snapshotPath(dir, 5) }));
    expect(error).to.be.instanceOf(SnapshotCorruptError);
    expect(error.message).to.match(/holds the engine at seq 2, its header says 5/);
  });

  it('names a JSON snapshot of an earlier version as not a snapshot of this version', async () => {
    const dir = tempDir();
    writeFileSync(snapshotPath(dir, 3), '{"seq":3,"timestamp":1,"engine":{},"crc32":0}');
    const error = await rejectionOf(readSnapshot({ seq: 3, path: snapshotPath(dir, 3) }));
    expect(error.message).to.match(/has no OBMSNAP1 header \(damaged, or not a snapshot of this version\)/);
  });

  it('removes temp files left by a crash mid-write', async () => {
    const dir = tempDir();
    writeFileSync(`${snapshotPath(dir, 9)}.tmp`, 'OBMSNAP1');
    await removeUnfinishedSnapshots(dir);
    expect(existsSync(`${snapshotPath(dir, 9)}.tmp`)).to.equal(false);
  });
});
