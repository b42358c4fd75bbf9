/**
 * The engine's limits (EngineLimits): EngineConfig's with their defaults, checked, and compared.
 * They are engine state: see ConfigureCommand.
 *
 * The other bounds that judge commands are constants of the code, the same on every replay by the
 * same version: STOP_TRIGGERS_PER_COMMAND (stops.ts), MAX_GTD_MS and MAX_DEAD_MAN_SECONDS
 * (timers.ts), MAX_ORDER_UNITS and MAX_UNITS (fixed-point.ts), MAX_FEE_BPS (api.ts),
 * CLIENT_ORDER_ID_MAX_LENGTH (validation.ts) and REFERENCE_MAX_LENGTH (withdrawal.ts). Changing one
 * changes what a journal written before means: make it a limit here instead.
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

/** Just the limits of `limits` (a command may carry more fields). */
export function copyOfLimits(limits: EngineLimits): EngineLimits {
  return Object.fromEntries(LIMIT_NAMES.map((name) => [name, limits[name]])) as unknown as EngineLimits;
}

export function sameLimits(a: EngineLimits, b: EngineLimits): boolean {
  return LIMIT_NAMES.every((name) => a[name] === b[name]);
}
