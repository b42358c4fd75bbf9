import { join } from 'node:path';
import { copyOfLimits, type EngineLimits, invalidLimit, LIMIT_NAMES } from '@orderbook/engine';
import { readRecordFile, writeRecordFile } from './data-files';

/**
 * The engine limits a data directory's journal starts with, in limits.json beside it: what its
 * commands were judged by until the first `configure` command, so what replay must judge them by,
 * whatever the configuration says today (a change of configuration becomes a `configure` command
 * at start-up; see loop/configured-limits.ts). Written once, at the first start of a directory that has
 * none: with the configured limits, which for a directory written before limits were recorded are
 * the ones its history was judged by as long as that start keeps the configuration it ran with.
 */
export const LIMITS_FILE = 'limits.json';

/** Start-up refused: the record is damaged. */
export class LimitsRecordError extends Error {
  override readonly name = 'LimitsRecordError';
}

/** The limits recorded for `dir`; `configured` are recorded (and returned) when there is no record yet. */
export async function recordedLimits(dir: string, configured: EngineLimits): Promise<EngineLimits> {
  const path = join(dir, LIMITS_FILE);
  const text = await readRecordFile(path);
  if (text === undefined) {
    await writeRecordFile(dir, path, `${JSON.stringify(configured, [...LIMIT_NAMES], 2)}\n`);
    return configured;
  }
  let recorded: EngineLimits;
  try {
    recorded = JSON.parse(text) as EngineLimits;
  } catch (err) {
    throw new LimitsRecordError(`${path} is damaged (${(err as Error).message}): restore it from a backup of the data directory`);
  }
  const wrong = typeof recorded === 'object' && recorded !== null ? invalidLimit(recorded) : 'the whole record';
  if (wrong !== undefined) throw new LimitsRecordError(`${path} is damaged (${wrong} is not a non-negative integer): restore it from a backup of the data directory`);
  return copyOfLimits(recorded);
}
