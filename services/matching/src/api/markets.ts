import type { MarketConfig } from '@orderbook/engine';

/** The configured markets and the assets they trade, for validating requests before they reach the engine. */
export class MarketDirectory {
  /** Sorted by symbol, as ListMarkets returns them. */
  readonly markets: readonly MarketConfig[];
  private readonly symbols: ReadonlySet<string>;
  private readonly assetSet: ReadonlySet<string>;

  constructor(markets: readonly MarketConfig[]) {
    this.markets = [...markets].sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
    this.symbols = new Set(markets.map((m) => m.symbol));
    this.assetSet = new Set(markets.flatMap((m) => [m.base, m.quote]));
  }

  hasMarket(symbol: string): boolean {
    return this.symbols.has(symbol);
  }

  hasAsset(asset: string): boolean {
    return this.assetSet.has(asset);
  }

  /** For error messages: what the caller could have sent instead. */
  symbolList(): string {
    return this.markets.map((m) => m.symbol).join(', ');
  }

  assetList(): string {
    return [...this.assetSet].sort().join(', ');
  }
}
