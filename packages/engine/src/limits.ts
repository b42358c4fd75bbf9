/**
 * The engine's limits (EngineLimits): EngineConfig's with their defaults, checked, and compared.
 * They are engine state: see ConfigureCommand.
 */
import type { EngineConfig, EngineLimits } from './api';
import { DEFAULT_MAX_OPEN_ORDERS_PER_USER_MARKET } from './book';
import { DEFAULT_MAX_STOPS_PER_USER_MARKET } from './stops';
import { DEFAULT_FILLS_RETAINED_PER_USER, DEFAULT_TRADES_RETAINED_PER_MARKET } from './trade-history';

/** Every limit, in the order snapshots and journal records write them. */
export const LIMIT_NAMES = [
  'closedOrdersRetainedPerUser',
  'fillsRetainedPerUser',
  'tradesRetainedPerMarket',
  'maxStopsPerUserMarket',
  'maxOpenOrdersPerUserMarket',
] as const satisfies readonly (keyof EngineLimits)[];

/** The config's limits, defaults filled in. */
export function limitsOf(config: EngineConfig): EngineLimits {
  return {
    closedOrdersRetainedPerUser: config.closedOrdersRetainedPerUser,
    fillsRetainedPerUser: config.fillsRetainedPerUser ?? DEFAULT_FILLS_RETAINED_PER_USER,
    tradesRetainedPerMarket: config.tradesRetainedPerMarket ?? DEFAULT_TRADES_RETAINED_PER_MARKET,
    maxStopsPerUserMarket: config.maxStopsPerUserMarket ?? DEFAULT_MAX_STOPS_PER_USER_MARKET,
    maxOpenOrdersPerUserMarket: config.maxOpenOrdersPerUserMarket ?? DEFAULT_MAX_OPEN_ORDERS_PER_USER_MARKET,
  };
}

/** The name of the first limit that is not a non-negative safe integer, if one is not. */
export function invalidLimit(limits: EngineLimits): keyof EngineLimits | undefined {
  return LIMIT_NAMES.find((name) => !Number.isSafeInteger(limits[name]) || limits[name] < 0);
}

export function sameLimits(a: EngineLimits, b: EngineLimits): boolean {
  return LIMIT_NAMES.every((name) => a[name] === b[name]);
}
