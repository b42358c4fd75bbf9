import { randomBytes } from 'node:crypto';
import bcrypt from 'bcrypt';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  compare(password: string, hash: string): Promise<boolean>;
  /** True when the hash was made with another cost than the configured one. */
  needsRehash(hash: string): boolean;
  /**
   * A hash of a random secret with the configured cost. Sign-in compares against it when the user is
   * unknown, so that an unknown user costs the same bcrypt work as a wrong password.
   */
  readonly dummyHash: string;
}

export async function createBcryptHasher(cost: number): Promise<PasswordHasher> {
  const dummyHash = await bcrypt.hash(randomBytes(32).toString('base64url'), cost);
  return {
    dummyHash,
    hash: (password) => bcrypt.hash(password, cost),
    compare: (password, hash) => bcrypt.compare(password, hash),
    needsRehash: (hash) => bcrypt.getRounds(hash) !== cost,
  };
}
