import { randomUUID } from 'node:crypto';
import { ConfigError, type Logger } from '@orderbook/server-kit';
import type { Role } from '@orderbook/token-verifier';
import type { AdminAccount } from './config';
import type { PasswordHasher } from './passwords';
import { DuplicateUserError, type UserStore } from './user-store';

const ADMIN_ROLES: readonly Role[] = ['trader', 'admin'];

/**
 * Makes the configured admin exist with the configured password and the admin role: creates it, or
 * updates the user of that name. An existing user with another email is refused, so that someone who
 * signed up under the admin's name cannot be promoted by accident.
 */
export async function bootstrapAdmin(admin: AdminAccount, store: UserStore, passwords: PasswordHasher, logger: Logger): Promise<void> {
  const existing = await store.findUserByUsername(admin.username);
  if (existing === undefined) {
    const id = randomUUID();
    try {
      await store.createUser({
        id,
        username: admin.username,
        email: admin.email,
        passwordHash: await passwords.hash(admin.password),
        roles: ADMIN_ROLES,
        createdAtMs: Date.now(),
      });
    } catch (err) {
      if (err instanceof DuplicateUserError) {
        throw new ConfigError(`AUTH_ADMIN_${err.field.toUpperCase()}: already used by another user`);
      }
      throw err;
    }
    logger.info({ userId: id, username: admin.username }, 'admin user created');
    return;
  }
  if (existing.email !== admin.email) {
    throw new ConfigError('AUTH_ADMIN_USERNAME: that user exists with another email than AUTH_ADMIN_EMAIL; not making it an admin');
  }
  const passwordChanged = !(await passwords.compare(admin.password, existing.passwordHash));
  const missingRoles = ADMIN_ROLES.filter((role) => !existing.roles.includes(role));
  if (!passwordChanged && missingRoles.length === 0 && !passwords.needsRehash(existing.passwordHash)) return;
  await store.updateUser(existing.id, {
    passwordHash: await passwords.hash(admin.password),
    roles: [...existing.roles, ...missingRoles],
  });
  // A new password ends the sessions opened with the old one.
  if (passwordChanged) await store.revokeUserRefreshTokens(existing.id, Date.now());
  logger.info({ userId: existing.id, passwordChanged, rolesAdded: missingRoles }, 'admin user updated');
}
