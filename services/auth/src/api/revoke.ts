import type { SessionSelector } from '../storage/sessions';
import type { AuthDeps } from './deps';

/**
 * Revokes sessions and tells the revocation feed at once (the watchers of this instance hear of
 * it now, those of other instances at their next poll). Resolves to the ids revoked.
 */
export async function revokeSessions(deps: AuthDeps, selector: SessionSelector): Promise<string[]> {
  const revoked = await deps.store.sessions.revoke(selector, Date.now());
  if (revoked.length > 0) deps.feed.poke();
  return revoked;
}

export function revokedDetail(count: number, what = 'session'): string {
  return `${count} ${what}${count === 1 ? '' : 's'} revoked`;
}
