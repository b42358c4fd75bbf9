import { expect } from 'chai';
import { startBareServer, type BareServer } from '../src/bare-server';
import { GeneratorPool } from '../src/generator-pool';
import type { EntryKind, PhaseCommand } from '../src/generator-thread';
import { runPhase } from '../src/phase';
import { DEFAULT_MIX } from '../src/workload';

/** The generator end to end (threads, channels, tally) against the in-process bare server: request counts and statuses only, never timings. */
describe('load generator against the bare server', () => {
  let bare: BareServer;
  let address: string;

  before(async () => {
    bare = await startBareServer(0);
    address = `127.0.0.1:${bare.port}`;
  });

  after(() => bare.stop());

  const pool = (target: string, threads: number, deadlineMs = 10_000): GeneratorPool =>
    new GeneratorPool(
      {
        workers: 4,
        seed: 42,
        workload: { markets: ['BTC-USD'], mix: DEFAULT_MIX, maxOpenOrders: 20 },
        entry: { address: target, channels: 2, tokens: ['a', 'b'], deadlineMs },
      },
      threads,
    );

  const closed = (entry: EntryKind, maxRequests: number): PhaseCommand => ({
    entry,
    mode: 'closed-loop',
    loop: { concurrency: 4, durationMs: 60_000, maxRequests, drainMs: 10_000 },
  });

  for (const entry of ['unary', 'session'] as const) {
    it(`${entry}: a closed loop on two threads sends exactly the request bound and every answer is OK`, async () => {
      const generator = pool(address, 2);
      try {
        const result = await runPhase(generator, { label: 'test' }, closed(entry, 400));
        expect(result).to.include({ answered: 400, ok: 400, rejected: 0, errors: 0, concurrency: 4, entry });
        expect(result.latency.count).to.equal(400);
        expect(result.byKind.cancel['OK'] ?? 0).to.be.greaterThan(0);
        expect(Object.keys(result.byKind.cancel)).to.deep.equal(['OK']);
      } finally {
        await generator.close();
      }
    });
  }

  it('an open loop sends rate × duration requests, split over the threads', async () => {
    const generator = pool(address, 2);
    try {
      const result = await runPhase(generator, { label: 'test' }, {
        entry: 'unary',
        mode: 'open-loop',
        loop: { ratePerSecond: 400, durationMs: 500, maxRequests: 1_000_000, maxInFlight: 1000, drainMs: 10_000 },
      });
      expect(result).to.include({ answered: 200, ok: 200, errors: 0, unsent: 0, targetRate: 400, mode: 'open-loop' });
    } finally {
      await generator.close();
    }
  });

  it('counts a status outside the expected ones as an error, with a sample', async () => {
    const generator = pool('127.0.0.1:1', 1, 2_000);
    try {
      const result = await runPhase(generator, { label: 'test' }, closed('unary', 3));
      expect(result).to.include({ answered: 3, ok: 0, errors: 3 });
      expect(result.errorSamples[0]).to.match(/UNAVAILABLE/);
    } finally {
      await generator.close();
    }
  });
});
