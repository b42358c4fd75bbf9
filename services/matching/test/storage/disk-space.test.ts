import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { DiskSpaceLowError } from '../../src/loop/errors';
import { openCommandLoop } from '../../src/loop/open-command-loop';
import { rejectionOf, silentLogger, tempDirs } from '../helpers';
import { LOAD_ENGINE_CONFIG } from '../random-load';

const deposit = (userId: string) => ({ kind: 'deposit', userId, asset: 'USD', amount: 100_000_000n }) as const;

describe('disk space reserve', () => {
  const tempDir = tempDirs();
  let free = 0;
  const open = (dataDir: string, checkIntervalMs: number) =>
    openCommandLoop({
      dataDir,
      engineConfig: LOAD_ENGINE_CONFIG,
      maxQueueDepth: 100,
      snapshotEvery: 1000,
      logger: silentLogger,
      diskReserveBytes: 10_000,
      diskCheckIntervalMs: checkIntervalMs,
      measureFreeSpace: async () => free,
    });

  it('refuses commands before applying them while free space is below the reserve, and takes them again once it returns', async () => {
    free = 5_000;
    const loop = await open(tempDir(), 20);
    try {
      const refused = await rejectionOf(loop.submit(deposit('ann')));
      expect(refused).to.be.instanceOf(DiskSpaceLowError);
      expect(refused.message).to.match(/5000 bytes, below the reserve of 10000 \(MATCHING_DISK_RESERVE_BYTES\)/);
      expect(loop.queries.lastSeq(), 'nothing applied').to.equal(0);
      expect(loop.queries.balances('ann').length, 'reads go on').to.be.greaterThan(0);
      free = 1_000_000_000;
      await sleep(100);
      expect((await loop.submit(deposit('ann'))).ok).to.equal(true);
    } finally {
      await loop.close();
    }
  });

  it('counts what the journal writes between measurements', async () => {
    free = 10_400;
    const loop = await open(tempDir(), 600_000);
    try {
      let accepted = 0;
      let refusal: Error | undefined;
      while (refusal === undefined && accepted < 100) {
        const outcome = await loop.submit(deposit(`user-${accepted}`)).then(() => undefined, (err: Error) => err);
        if (outcome === undefined) accepted += 1;
        else refusal = outcome;
      }
      expect(refusal).to.be.instanceOf(DiskSpaceLowError);
      // Each record is ~60-100 bytes: the 400 bytes above the reserve last a few commands, not 100.
      expect(accepted).to.be.within(1, 8);
    } finally {
      await loop.close();
    }
  });
});
