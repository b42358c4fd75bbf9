import { OrderbookClient } from '@orderbook/client';

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

/** Signs up and signs in `count` traders with @orderbook/client, then funds each through AddFunds as the admin. */
export async function createTraders(options: TradersOptions): Promise<Trader[]> {
  const connect = (): OrderbookClient => new OrderbookClient({ authAddress: options.authAddress, matchingAddress: options.matchingAddress });
  const admin = connect();
  try {
    await admin.signIn(options.admin);

    const signUp = async (index: number): Promise<Trader> => {
      const username = `${options.prefix}-${index}`;
      const password = `password-${options.prefix}-${index}`;
      const client = connect();
      try {
        await client.signUp({ username, email: `${username}@example.com`, password });
        const user = await client.signIn({ login: username, password });
        for (const [asset, amount] of Object.entries(options.funding)) await admin.addFunds({ userId: user.id, asset, amount });
        // The workers send this token as it is: the bench's tokens live long enough not to need refreshing.
        return { userId: user.id, username, accessToken: await client.tokens.accessToken() };
      } finally {
        client.close();
      }
    };

    const traders: Trader[] = [];
    for (let first = 0; first < options.count; first += SIGN_UP_PARALLELISM) {
      const batch = Array.from({ length: Math.min(SIGN_UP_PARALLELISM, options.count - first) }, (_, offset) => signUp(first + offset));
      traders.push(...(await Promise.all(batch)));
    }
    return traders;
  } finally {
    admin.close();
  }
}
