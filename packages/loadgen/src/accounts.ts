import * as grpc from '@grpc/grpc-js';
import { auth, matching } from '@orderbook/proto';
import { bearer } from './clients';
import { callUnary } from './unary-call';

/** A signed-up, signed-in and funded user the workers act as. */
export interface Trader {
  readonly userId: string;
  readonly username: string;
  readonly accessToken: string;
}

export interface TradersOptions {
  readonly authAddress: string;
  readonly matchingAddress: string;
  readonly count: number;
  /** Distinguishes this run's usernames. */
  readonly prefix: string;
  readonly admin: { readonly login: string; readonly password: string };
  /** Asset → amount credited to every trader through the admin AddFunds path. */
  readonly funding: Readonly<Record<string, string>>;
}

/** Sign-ups run this many at a time: bcrypt runs on the auth service's thread pool (4 threads by default). */
const SIGN_UP_PARALLELISM = 4;

/** Signs up and signs in `count` traders, then funds each through AddFunds as the admin. */
export async function createTraders(options: TradersOptions): Promise<Trader[]> {
  const authClient = new auth.AuthServiceClient(options.authAddress, grpc.credentials.createInsecure());
  const matchingClient = new matching.MatchingServiceClient(options.matchingAddress, grpc.credentials.createInsecure());
  try {
    const adminSession = await callUnary(authClient.signIn.bind(authClient), { login: options.admin.login, password: options.admin.password });
    const adminMetadata = bearer(adminSession.tokens?.accessToken ?? '');

    const signUp = async (index: number): Promise<Trader> => {
      const username = `${options.prefix}-${index}`;
      const password = `password-${options.prefix}-${index}`;
      await callUnary(authClient.signUp.bind(authClient), { username, email: `${username}@example.com`, password });
      const session = await callUnary(authClient.signIn.bind(authClient), { login: username, password });
      const userId = session.user?.id ?? '';
      for (const [asset, amount] of Object.entries(options.funding)) {
        await callUnary(matchingClient.addFunds.bind(matchingClient), { userId, asset, amount }, adminMetadata);
      }
      return { userId, username, accessToken: session.tokens?.accessToken ?? '' };
    };

    const traders: Trader[] = [];
    for (let first = 0; first < options.count; first += SIGN_UP_PARALLELISM) {
      const batch = Array.from({ length: Math.min(SIGN_UP_PARALLELISM, options.count - first) }, (_, offset) => signUp(first + offset));
      traders.push(...(await Promise.all(batch)));
    }
    return traders;
  } finally {
    authClient.close();
    matchingClient.close();
  }
}
