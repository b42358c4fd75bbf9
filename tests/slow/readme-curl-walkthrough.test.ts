import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { HttpStack } from '../e2e/gateway/http-stack';

const root = join(__dirname, '..', '..');

/** The shell blocks between the curl walk-through markers of the README, in order. */
function walkthroughScript(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = /<!-- curl-walkthrough:start -->([\s\S]*)<!-- curl-walkthrough:end -->/.exec(readme)?.[1];
  if (!section) throw new Error('README has no curl walk-through section');
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
}

describe('README curl walk-through, pasted into bash against the gateway in front of real services', () => {
  let stack: HttpStack;

  before(async () => {
    stack = await HttpStack.start('readme-curl', {}, 'orderbook-admin');
  });
  after(() => stack?.stop());

  it('runs every command with curl and jq, and the numbers are the ones the README states', async function () {
    this.timeout(120_000);
    const script = walkthroughScript().replace('GW=http://127.0.0.1:8080', `GW=${stack.url}`);
    expect(script).to.contain(stack.url);
    // Asynchronously: the servers run in this process and must keep answering while bash runs.
    const run = await new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      execFile('bash', ['-e', '-o', 'pipefail', '-c', script], { cwd: root, encoding: 'utf8' }, (err, stdout, stderr) =>
        resolve({ status: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(run.status, run.stderr).to.equal(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.pop()).to.equal('400');
    // The JSON answers, one a line, in order.
    const documents = lines.map((text) => JSON.parse(text) as Record<string, any>);
    const funded = documents.filter((d) => 'balance' in d).map((d) => d['balance']);
    expect(funded).to.deep.equal([
      { asset: 'USD', available: '50000', locked: '0' },
      { asset: 'ETH', available: '10', locked: '0' },
      { asset: 'USD', available: '46000', locked: '0' },
    ]);
    expect(documents.find((d) => 'fills' in d)!['fills'].map((f: Record<string, string>) => [f.liquidity, f.price, f.quantity])).to.deep.equal([['LIQUIDITY_TAKER', '2000', '1.5']]);
    expect(documents.find((d) => 'lastPrice' in d)).to.include({ lastPrice: '2000', volume: '1.5', tradeCount: '1' });
    expect(documents.find((d) => 'candles' in d)!['candles']).to.have.length(1);
    expect(documents.find((d) => 'entries' in d)!['entries'].map((e: Record<string, string>) => [e.kind, e.amount])).to.deep.equal([
      ['LEDGER_ENTRY_KIND_WITHDRAWAL', '1000'],
      ['LEDGER_ENTRY_KIND_DEPOSIT', '50000'],
    ]);
    const book = documents.find((d) => 'asks' in d)!;
    expect(book['asks']).to.deep.equal([{ price: '2000', quantity: '4', orderCount: 1 }]);
    const bid = documents.find((d) => d['order']?.side === 'SIDE_BUY')!;
    expect(bid['trades'].map((t: { price: string; quantity: string }) => [t.price, t.quantity])).to.deep.equal([['2000', '1.5']]);
    expect(documents.find((d) => 'balances' in d)!['balances']).to.deep.equal([
      { asset: 'ETH', available: '1.5', locked: '0' },
      { asset: 'USD', available: '47000', locked: '0' },
    ]);
    const stop = documents.find((d) => d['order']?.stopPrice === '2200')!;
    expect(stop['order']).to.include({ status: 'ORDER_STATUS_UNTRIGGERED', type: 'ORDER_TYPE_STOP_MARKET', lockedAmount: '2420' });
    expect(documents.find((d) => d['order']?.price === '2150')!['order']).to.include({ status: 'ORDER_STATUS_PARTIALLY_FILLED' });
    expect(documents.find((d) => 'releasedAmount' in d)).to.include({ releasedAmount: '2.5', releasedAsset: 'ETH' });
    const error = documents[documents.length - 1]!;
    expect(error).to.include({ code: 3 });
    expect(error['message']).to.match(/^price: /);
  });
});
