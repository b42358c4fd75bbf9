import { type EngineLimits, LIMIT_NAMES, sameLimits } from '@orderbook/engine';
import type { Logger } from '@orderbook/server-kit';
import type { CommandLoop } from './command-loop-api';

/**
 * Puts the configured limits in force on a loop that has just started to lead: when they differ
 * from the engine's (the data directory's limits, as its journal left them), through a `configure`
 * command, journaled like any other, so that a replay applies the change at its seq and judges
 * every earlier command by the limits it was judged by. Followers apply it as it comes, whatever
 * their own configuration says. A refused command (a full disk) leaves the limits as they were,
 * logged: the service still starts, and the next start tries again.
 *
 * `intoEmptyJournal`: the journal holds no command yet, and the limits go into it even when they
 * are the same. A replicated stream is read by nodes whose data directories each recorded their own
 * configuration (limits-record.ts); with its limits as its first command, every node replays it alike.
 */
export async function applyConfiguredLimits(
  loop: Pick<CommandLoop, 'submit' | 'queries'>, configured: EngineLimits, logger: Logger, intoEmptyJournal = false,
): Promise<void> {
  const current = loop.queries.limits();
  if (sameLimits(current, configured) && !(intoEmptyJournal && loop.queries.lastSeq() === 0)) return;
  const changes = LIMIT_NAMES.filter((name) => current[name] !== configured[name]).map((name) => `${name} ${current[name]} -> ${configured[name]}`);
  try {
    const result = await loop.submit({ kind: 'configure', limits: configured });
    if (!result.ok) throw new Error(result.error.message);
  } catch (err) {
    logger.error({ err, limits: current }, `the configured engine limits could not be put in force; the data directory's stay: ${changes.join(', ')}`);
    return;
  }
  logger.info(
    { seq: loop.queries.lastSeq(), from: current, to: configured },
    changes.length === 0 ? 'engine limits journaled as the first command' : `engine limits changed by a journaled configure command: ${changes.join(', ')}`,
  );
}
