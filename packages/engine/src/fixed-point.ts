/**
 * Fixed-point values: exact decimal strings <-> integer units.
 *
 * Prices have 6 decimals (1 unit = 10^-6 of the quote asset); quantities and asset amounts have 8
 * (1 unit = 10^-8 of an asset). Every value is a positive integer number of units, at most
 * 2^64-1, so that it fits the uint64 of any client language.
 */
import type { EngineError } from './api';

export const PRICE_DECIMALS = 6;
export const QUANTITY_DECIMALS = 8;
export const AMOUNT_DECIMALS = 8;
export const MAX_UNITS = 2n ** 64n - 1n;
/**
 * The engine's bound on an order's price, quantity and value (ceil(price × quantity / 10^6)), in
 * units: 2^53-1, so that order arithmetic runs exactly on JS numbers (see settlement.ts). E.g. at
 * most 90,071,992.54740991 of a base asset per order, and orders worth at most as many quote units.
 */
export const MAX_ORDER_UNITS = Number.MAX_SAFE_INTEGER;

export type ParseResult = { readonly ok: true; readonly value: bigint } | { readonly ok: false; readonly error: EngineError };

/** Digits, optionally a '.' and more digits: no sign, exponent, whitespace or bare '.' at either end. */
const DECIMAL = /^([0-9]+)(?:\.([0-9]+))?$/;
/** 2^64-1 has 20 digits: anything longer than 20 + '.' + decimals cannot be valid, whatever it holds. */
const MAX_INTEGER_DIGITS = 20;

function invalid(field: string, what: string): ParseResult {
  return { ok: false, error: { code: 'INVALID_ARGUMENT', field, message: `${field}: ${what}` } };
}

function parseUnits(text: string, decimals: number, field: string): ParseResult {
  if (typeof text !== 'string' || text.length === 0) return invalid(field, 'must be a decimal number, e.g. "1.5"');
  // Checked before the regex and BigInt so that a hostile megabyte string costs nothing.
  const maxLength = MAX_INTEGER_DIGITS + 1 + decimals;
  if (text.length > maxLength) return invalid(field, `too long: at most ${maxLength} characters`);
  const m = DECIMAL.exec(text);
  if (m === null) return invalid(field, `must be a plain decimal number (digits and at most one inner '.'), got "${text}"`);
  const fraction = m[2] ?? '';
  if (fraction.length > decimals) return invalid(field, `at most ${decimals} decimals`);
  const value = BigInt(m[1] + fraction.padEnd(decimals, '0'));
  const error = checkUnits(value, decimals, field);
  return error === undefined ? { ok: true, value } : { ok: false, error };
}

/** Range check for a value already in units: zero is meaningless for every price, quantity and amount. */
function checkUnits(value: bigint, decimals: number, field: string, max: bigint = MAX_UNITS): EngineError | undefined {
  const what =
    typeof value !== 'bigint' ? 'must be an integer number of units'
    : value <= 0n ? 'must be greater than zero'
    : value > max ? `exceeds the maximum ${formatUnits(max, decimals)}`
    : undefined;
  return what === undefined ? undefined : { code: 'INVALID_ARGUMENT', field, message: `${field}: ${what}` };
}

/**
 * checkUnits for one field, bound once: the engine calls these per command without reaching into
 * this module's exports, which tsx (esbuild) compiles to getter calls.
 */
export function unitsChecker(decimals: number, field: string, max: bigint = MAX_UNITS): (value: bigint) => EngineError | undefined {
  return (value) => checkUnits(value, decimals, field, max);
}

/** Canonical decimal text of a non-negative unit count: no trailing zeros, no trailing '.'. */
export function formatUnits(value: bigint, decimals: number): string {
  const digits = value.toString().padStart(decimals + 1, '0');
  const integer = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals).replace(/0+$/, '');
  return fraction.length > 0 ? `${integer}.${fraction}` : integer;
}

export const parsePrice = (text: string, field = 'price'): ParseResult => parseUnits(text, PRICE_DECIMALS, field);
export const parseQuantity = (text: string, field = 'quantity'): ParseResult => parseUnits(text, QUANTITY_DECIMALS, field);
export const parseAmount = (text: string, field = 'amount'): ParseResult => parseUnits(text, AMOUNT_DECIMALS, field);

export const formatPrice = (units: bigint): string => formatUnits(units, PRICE_DECIMALS);
export const formatQuantity = (units: bigint): string => formatUnits(units, QUANTITY_DECIMALS);
export const formatAmount = (units: bigint): string => formatUnits(units, AMOUNT_DECIMALS);
