import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError } from '@orderbook/server-kit';
import { loadConfig } from '../../src/ops/config';
import { checkMarketRules, MARKET_RULES_FILE, MarketRulesError } from '../../src/storage/market-rules-record';

describe('matching configuration: markets from MATCHING_MARKETS_FILE', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'money-markets-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** loadConfig with a markets file holding `content` (a string as it is, anything else as JSON). */
  async function load(content: unknown) {
    const file = join(dir, 'markets.json');
    await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
    return loadConfig({ MATCHING_MARKETS_FILE: file });
  }
  async function refusal(content: unknown): Promise<string> {
    try {
      await load(content);
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      return (err as Error).message;
    }
    return expect.fail('accepted');
  }

  it('reads fees and rules into units; omitted ones are none; MATCHING_MARKETS is the default without a file', async () => {
    const config = await load({
      markets: [
        { symbol: 'BTC-USD', maker_fee_bps: -1, taker_fee_bps: 5, tick_size: '0.01', lot_size: '0.0001', min_quantity: '0.001', min_notional: '10' },
        { symbol: 'ETH-USD', min_notional: '0' },
      ],
    });
    expect(config.markets).to.deep.equal([
      { symbol: 'BTC-USD', base: 'BTC', quote: 'USD', makerFeeBps: -1, takerFeeBps: 5, tickSize: 10_000n, lotSize: 10_000n, minQuantity: 100_000n, minNotional: 1_000_000_000n },
      { symbol: 'ETH-USD', base: 'ETH', quote: 'USD' },
    ]);
    expect(loadConfig({}).markets.map((m) => m.symbol)).to.deep.equal(['BTC-USD', 'ETH-USD', 'SOL-USD']);
  });

  it('refuses a bad file or entry, naming the entry and the field', async () => {
    expect(await refusal('{')).to.match(/MATCHING_MARKETS_FILE: .*markets\.json: is not JSON/);
    expect(await refusal({ markets: [] })).to.match(/expected \{"markets": \[ \.\.\.at least one market\.\.\. \]\}/);
    expect(await refusal({ markets: [{ symbol: 'btc-usd' }] })).to.match(/markets\[0\] \(btc-usd\): symbol: expected BASE-QUOTE/);
    expect(await refusal({ markets: [{ symbol: 'BTC-BTC' }] })).to.match(/markets\[0\] \(BTC-BTC\): symbol: trades an asset against itself/);
    expect(await refusal({ markets: [{ symbol: 'BTC-USD' }, { symbol: 'BTC-USD' }] })).to.match(/markets\[1\] \(BTC-USD\): symbol: listed twice/);
    expect(await refusal({ markets: [{ symbol: 'BTC-USD', fee: 1 }] })).to.match(/markets\[0\] \(BTC-USD\): unknown field "fee"/);
    expect(await refusal({ markets: [{ symbol: 'BTC-USD', taker_fee_bps: '5' }] })).to.match(/taker_fee_bps: expected an integer number of basis points/);
    expect(await refusal({ markets: [{ symbol: 'BTC-USD', taker_fee_bps: 5, maker_fee_bps: -6 }] })).to.match(/markets\[0\] \(BTC-USD\): maker_fee_bps: must be an integer from -taker_fee_bps \(-5\) to 1000, got -6/);
    expect(await refusal({ markets: [{ symbol: 'BTC-USD', taker_fee_bps: 1001 }] })).to.match(/taker_fee_bps: must be an integer from 0 to 1000/);
    expect(await refusal({ markets: [{ symbol: 'BTC-USD', tick_size: '0.0000001' }] })).to.match(/markets\[0\] \(BTC-USD\): tick_size: at most 6 decimals/);
    expect(await refusal({ markets: [{ symbol: 'BTC-USD', lot_size: 0.1 }] })).to.match(/lot_size: expected a decimal string/);
    expect(await refusal({ markets: [{ symbol: 'BTC-USD', min_quantity: '0' }] })).to.match(/min_quantity: must be greater than zero/);
    expect(await refusal({ markets: [{ symbol: 'BTC-USD', min_notional: '1'.repeat(10_000) }] })).to.match(/min_notional: too long/);
    expect(await refusal({ markets: [{ symbol: 'BTC-USD', lot_size: '90071993' }] })).to.match(/lot_size: must be from 1 to 9007199254740991 units/);
    const missing = join(dir, 'absent.json');
    expect(() => loadConfig({ MATCHING_MARKETS_FILE: missing })).to.throw(ConfigError, /absent\.json: cannot be read/);
  });
});

describe('the data directory’s record of market fees and rules', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'money-record-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));
  const btc = { symbol: 'BTC-USD', base: 'BTC', quote: 'USD' };

  it('records a fresh directory’s markets, refuses a change, and adds a new market', async () => {
    await checkMarketRules(dir, [{ ...btc, takerFeeBps: 5, tickSize: 10_000n }]);
    const recorded = JSON.parse(await readFile(join(dir, MARKET_RULES_FILE), 'utf8'));
    expect(recorded['BTC-USD']).to.deep.equal({ maker_fee_bps: 0, taker_fee_bps: 5, tick_size: '0.01', lot_size: '0.00000001', min_quantity: '0.00000001', min_notional: '0' });
    await checkMarketRules(dir, [{ ...btc, takerFeeBps: 5, tickSize: 10_000n }]);
    let error: unknown;
    await checkMarketRules(dir, [{ ...btc, takerFeeBps: 5, tickSize: 20_000n }]).catch((err) => (error = err));
    expect(error).to.be.instanceOf(MarketRulesError);
    expect((error as Error).message).to.match(/market BTC-USD: tick_size is 0\.02, but the data directory .* was traded with 0\.01/);
    await checkMarketRules(dir, [{ ...btc, takerFeeBps: 5, tickSize: 10_000n }, { symbol: 'ETH-USD', base: 'ETH', quote: 'USD', makerFeeBps: 3 }]);
    expect(Object.keys(JSON.parse(await readFile(join(dir, MARKET_RULES_FILE), 'utf8')))).to.deep.equal(['BTC-USD', 'ETH-USD']);
  });

  it('counts a directory with history but no record as traded without fees or rules', async () => {
    await writeFile(join(dir, 'journal-0000000000000001.log'), '');
    let error: unknown;
    await checkMarketRules(dir, [{ ...btc, makerFeeBps: 1 }]).catch((err) => (error = err));
    expect((error as Error).message).to.match(/market BTC-USD: maker_fee_bps is 1, but the data directory .* was traded with 0/);
    await checkMarketRules(dir, [btc]);
    expect(JSON.parse(await readFile(join(dir, MARKET_RULES_FILE), 'utf8'))).to.have.keys(['BTC-USD']);
  });

  it('refuses a damaged record rather than guess', async () => {
    await writeFile(join(dir, MARKET_RULES_FILE), '{"BTC-USD": ');
    let error: unknown;
    await checkMarketRules(dir, [btc]).catch((err) => (error = err));
    expect((error as Error).message).to.match(/markets\.json is damaged/);
  });
});
