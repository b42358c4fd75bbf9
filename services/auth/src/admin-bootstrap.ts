import { randomUUID } from 'node:crypto';
import type { Logger } from '@orderbook/server-kit';
import type { Role } from '@orderbook/token-verifier';
import type { AdminAccount } from './config';
import type { PasswordHasher } from './security/passwords';
import type { AuthStore } from './storage/auth-store';
import { DuplicateUserError, type UserRecord } from './storage/users';

const ADMIN_ROLES: readonly Role[] = ['trader', 'admin'];

/** What start-up did about the configured admin. */
export type BootstrapOutcome =
  /** Created the user. */
  | 'created'
  /** Took over the user of that name and email (as earlier versions did): password and roles set, sessions revoked. */
  | 'adopted'
  /** The user it manages got the configured password, email or roles. */
  | 'updated'
  | 'unchanged'
  /** Someone else holds the name or the email: nobody was made an admin, start-up goes on. */
  | 'blocked';

export interface BootstrapDeps {
  readonly store: AuthStore;
  readonly passwords: PasswordHasher;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
}

/**
 * Makes the configured admin exist with the configured email, password and roles. The admin is
 * remembered by user id once bootstrapped, so a name is never what grants the role; and sign-up
 * refuses the admin's name and email (AuthPolicy.reserved*), so that nobody can take them first.
 * When someone did take one before it was configured, start-up neither fails nor promotes them:
 * it logs what blocks the bootstrap and what to do, and goes on without an admin.
 */
export async function bootstrapAdmin(admin: AdminAccount, deps: BootstrapDeps): Promise<BootstrapOutcome> {
  const { users } = deps.store;
  const rememberedId = await users.bootstrappedAdminId();
  const remembered = rememberedId === undefined ? undefined : await users.byId(rememberedId);
  if (remembered !== undefined) return record(admin, deps, await update(admin, remembered, deps), remembered.id);

  const byName = await users.byUsername(admin.username);
  if (byName !== undefined && byName.email !== admin.email) {
    return record(admin, deps, 'blocked', byName.id, `AUTH_ADMIN_USERNAME "${admin.username}" belongs to another user (with another email)`);
  }
  if (byName !== undefined) {
    await update(admin, byName, deps);
    await users.rememberBootstrappedAdmin(byName.id);
    return record(admin, deps, 'adopted', byName.id);
  }
  const byEmail = await users.byEmail(admin.email);
  if (byEmail !== undefined) {
    return record(admin, deps, 'blocked', byEmail.id, `AUTH_ADMIN_EMAIL belongs to another user ("${byEmail.username}")`);
  }
  const id = randomUUID();
  try {
    await users.create({ id, username: admin.username, email: admin.email, passwordHash: await deps.passwords.hash(admin.password), roles: ADMIN_ROLES, createdAtMs: Date.now() });
  } catch (err) {
    // Another instance starting at the same moment created it: the next pass finds it by name and email.
    if (err instanceof DuplicateUserError) return bootstrapAdmin(admin, deps);
    throw err;
  }
  await users.rememberBootstrappedAdmin(id);
  return record(admin, deps, 'created', id);
}

/** Gives the user the configured email, password and roles; ends its sessions if the password or roles changed. */
async function update(admin: AdminAccount, user: UserRecord, deps: BootstrapDeps): Promise<'updated' | 'unchanged'> {
  const { users, sessions } = deps.store;
  const passwordChanged = !(await deps.passwords.compare(admin.password, user.passwordHash));
  const missingRoles = ADMIN_ROLES.filter((role) => !user.roles.includes(role));
  if (passwordChanged || deps.passwords.needsRehash(user.passwordHash)) await users.setPasswordHash(user.id, await deps.passwords.hash(admin.password));
  if (missingRoles.length > 0) await users.setRoles(user.id, [...user.roles, ...missingRoles]);
  const emailChanged = user.email !== admin.email && (await changeEmail(admin, user, deps));
  if (passwordChanged || missingRoles.length > 0) {
    // A new password ends the sessions opened with the old one, new roles those whose tokens lack them
    // (the revocation feed publishes them when it starts).
    await sessions.revoke({ userId: user.id }, Date.now());
  }
  return passwordChanged || missingRoles.length > 0 || emailChanged ? 'updated' : 'unchanged';
}

/** A changed AUTH_ADMIN_EMAIL that another user has is left alone (with a warning): start-up goes on. */
async function changeEmail(admin: AdminAccount, user: UserRecord, deps: BootstrapDeps): Promise<boolean> {
  try {
    await deps.store.users.setEmail(user.id, admin.email);
    return true;
  } catch (err) {
    if (!(err instanceof DuplicateUserError)) throw err;
    deps.logger.warn({ userId: user.id }, 'AUTH_ADMIN_EMAIL belongs to another user: the admin keeps its current email');
    return false;
  }
}

async function record(admin: AdminAccount, deps: BootstrapDeps, outcome: BootstrapOutcome, userId: string, blockedBy?: string): Promise<BootstrapOutcome> {
  if (outcome === 'blocked') {
    deps.logger.warn(
      { outcome, username: admin.username, heldBy: userId },
      `admin bootstrap skipped: ${blockedBy}; nobody was made an admin. Set AUTH_ADMIN_USERNAME and AUTH_ADMIN_EMAIL to ones nobody uses (sign-up refuses them from then on), or have an existing admin grant the role with SetUserRoles`,
    );
  } else {
    deps.logger.info({ outcome, userId, username: admin.username }, `admin bootstrap: ${outcome}`);
  }
  await deps.store.audit.append({ kind: 'admin_bootstrap', subjectId: userId, detail: blockedBy === undefined ? outcome : `${outcome}: ${blockedBy}` });
  return outcome;
}
