import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { HttpStack } from './http-stack';

/** Markets from a file through the HTTP gateway: the rules in GET /v1/markets, a breach as 400 naming the field. */
describe('gateway: market fees and instrument rules over HTTP', () => {
  let stack: HttpStack;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'money-gateway-'));
    const file = join(dir, 'markets.json');
    await writeFile(file, JSON.stringify({ markets: [{ symbol: 'BTC-USD', maker_fee_bps: 1, taker_fee_bps: 3, tick_size: '0.5', min_notional: '5' }] }));
    stack = await HttpStack.start('gateway-fees', {}, undefined, { matching: { MATCHING_MARKETS_FILE: file } });
  });
  after(async () => {
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('GET /v1/markets shows the fees and rules; POST /v1/orders off the tick is 400 with the field violation', async () => {
    const markets = await stack.call('GET', '/v1/markets');
    expect(markets.json.markets[0]).to.include({ symbol: 'BTC-USD', makerFeeBps: 1, takerFeeBps: 3, tickSize: '0.5', minNotional: '5' });
    const trader = await stack.trader('gateway-fees-trader');
    const placed = await stack.call('POST', '/v1/orders', { token: trader.token, body: { market: 'BTC-USD', side: 'SIDE_BUY', price: '100.25', quantity: '1' } });
    expect(placed.status).to.equal(400);
    expect(placed.json.message).to.equal('price: not a multiple of the tick size 0.5');
    const badRequest = placed.json.details.find((d: { '@type': string }) => d['@type'] === 'type.googleapis.com/google.rpc.BadRequest');
    expect(badRequest.fieldViolations).to.deep.equal([{ field: 'price', description: 'not a multiple of the tick size 0.5' }]);
  });
});
