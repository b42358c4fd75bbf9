import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { startInProcessServices, type InProcessServices } from '../support/in-process-services';

const root = join(__dirname, '..', '..');

/** The shell blocks between the walkthrough markers of the README, in order. */
function walkthroughScript(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = /<!-- walkthrough:start -->([\s\S]*)<!-- walkthrough:end -->/.exec(readme)?.[1];
  if (!section) throw new Error('README has no walkthrough section');
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
}

describe('README grpcurl walk-through, pasted into bash against real services', () => {
  let services: InProcessServices;
  let dir: string;

  before(async () => {
    services = await startInProcessServices('readme', 'orderbook-admin');
    dir = services.dir;
    const grpcurl = join(dir, 'bin', 'grpcurl');
    mkdirSync(join(dir, 'bin'));
    writeFileSync(grpcurl, `#!/bin/sh\nexec "${process.execPath}" --import tsx "${join(__dirname, '..', 'readme', 'grpcurl-shim.ts')}" "$@"\n`);
    chmodSync(grpcurl, 0o755);
  });

  after(async () => {
    await services?.stop();
  });

  it('runs every command, and the numbers are the ones the README states', async function () {
    this.timeout(120_000);
    const script = walkthroughScript().replace(
      'AUTH=127.0.0.1:50051 MATCHING=127.0.0.1:50052',
      `AUTH=${services.auth.address} MATCHING=${services.matching.address}`,
    );
    expect(script).to.contain(services.auth.address);
    // Asynchronously: the servers run in this process and must keep answering while bash runs.
    const run = await new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        'bash',
        ['-e', '-o', 'pipefail', '-c', script],
        { cwd: root, encoding: 'utf8', env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}` } },
        (err, stdout, stderr) => resolve({ status: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(run.stderr, run.stdout).to.match(/ERROR:\n {2}Code: InvalidArgument\n {2}Message: price: .+/);
    expect(run.status, run.stderr).to.equal(0);

    const documents = run.stdout.split(/\n(?=\{)/).map((text) => JSON.parse(text) as Record<string, unknown>);
    const balances = documents.filter((d) => 'balances' in d).map((d) => d.balances);
    expect(balances).to.deep.equal([
      [
        { asset: 'BTC', available: '0.6', locked: '0' },
        { asset: 'USD', available: '81900', locked: '0' },
      ],
      [
        { asset: 'BTC', available: '1.4', locked: '0' },
        { asset: 'USD', available: '18100', locked: '0' },
      ],
    ]);
    const book = documents.find((d) => 'asks' in d) as { asks: unknown[] };
    expect(book.asks).to.deep.equal([
      { price: '30000', quantity: '0.5', orderCount: 1 },
      { price: '31000', quantity: '0.5', orderCount: 1 },
    ]);
    const cancelled = documents.find((d) => 'releasedAmount' in d);
    expect(cancelled).to.include({ releasedAmount: '0.4', releasedAsset: 'BTC' });
    const pair = documents.find((d) => 'stopOrder' in d) as { order: Record<string, unknown>; stopOrder: Record<string, unknown> };
    expect(pair.stopOrder).to.include({ status: 'ORDER_STATUS_UNTRIGGERED', type: 'ORDER_TYPE_STOP_MARKET', stopPrice: '28000', lockedAmount: '0.2' });
    expect(pair.order).to.include({ status: 'ORDER_STATUS_OPEN', price: '33000', ocoOrderId: pair.stopOrder.orderId });
    // Newest (highest id) first: the pair's stop, the pair's limit order, the stop-limit sell.
    const open = documents.filter((d) => 'orders' in d).at(-1) as { orders: { status: string; stopPrice?: string }[] };
    expect(open.orders.map((o) => [o.status, o.stopPrice])).to.deep.equal([
      ['ORDER_STATUS_UNTRIGGERED', '28000'],
      ['ORDER_STATUS_OPEN', undefined],
      ['ORDER_STATUS_UNTRIGGERED', '29000'],
    ]);
    const { fills } = documents.find((d) => 'fills' in d) as { fills: Record<string, string>[] };
    expect(fills.map((f) => [f.side, f.liquidity, f.price, f.quantity])).to.deep.equal([
      ['SIDE_BUY', 'LIQUIDITY_TAKER', '31000', '0.1'],
      ['SIDE_BUY', 'LIQUIDITY_TAKER', '30000', '0.3'],
      ['SIDE_BUY', 'LIQUIDITY_TAKER', '30000', '0.2'],
    ]);
    expect(documents.find((d) => 'lastPrice' in d)).to.include({ lastPrice: '31000', open: '30000', high: '31000', low: '30000', volume: '0.6', tradeCount: '3' });
    const withdrawal = documents.find((d) => 'entry' in d) as { balance: unknown; entry: Record<string, string> };
    expect(withdrawal.balance).to.deep.equal({ asset: 'USD', available: '80000', locked: '0' });
    expect(withdrawal.entry).to.include({ reference: 'SEPA 2026-11-30/17', requestId: 'payout-1' });
    const { entries } = documents.find((d) => 'entries' in d) as { entries: Record<string, string>[] };
    expect(entries.map((e) => [e.kind, e.amount, e.balanceAfter])).to.deep.equal([
      ['LEDGER_ENTRY_KIND_WITHDRAWAL', '1900', '80000'],
      ['LEDGER_ENTRY_KIND_DEPOSIT', '100000', '100000'],
    ]);
    const expired = documents.find((d) => (d.order as { timeInForce?: string } | undefined)?.timeInForce === 'TIME_IN_FORCE_GTD');
    expect(expired?.order).to.include({ status: 'ORDER_STATUS_CANCELLED', cancelReason: 'CANCEL_REASON_EXPIRED', lockedAmount: '0' });
    const switches = documents.filter((d) => 'currentTimeUnixMs' in d) as Array<{ currentTimeUnixMs: string; triggerTimeUnixMs?: string }>;
    expect(switches.map((d) => (d.triggerTimeUnixMs === undefined ? 0 : Number(d.triggerTimeUnixMs) - Number(d.currentTimeUnixMs)))).to.deep.equal([60_000, 0]);
  });
});
