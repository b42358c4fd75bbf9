import { loadConfig, startGateway, type RunningGateway } from '@orderbook/gateway-service';
import { startInProcessServices, type InProcessServices, type ServicesEnv } from '../../support/in-process-services';

export const ADMIN_PASSWORD = 'admin-password-for-gateway-tests';

/** An HTTP answer: status, headers and the body parsed as JSON (undefined when empty). */
export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly json: any; // whatever JSON came back
}

/** Real auth and matching in this process with the gateway in front, reached over HTTP as curl would. */
export class HttpStack {
  private constructor(
    readonly services: InProcessServices,
    readonly gateway: RunningGateway,
  ) {}

  static async start(prefix: string, gatewayEnv: Readonly<Record<string, string>> = {}, adminPassword = ADMIN_PASSWORD, servicesEnv: ServicesEnv = {}): Promise<HttpStack> {
    const services = await startInProcessServices(prefix, adminPassword, servicesEnv);
    const gateway = await startGateway(
      loadConfig({
        GATEWAY_PORT: '0',
        GATEWAY_AUTH_ADDRESS: services.auth.address,
        GATEWAY_MATCHING_ADDRESS: services.matching.address,
        LOG_LEVEL: 'silent',
        ...gatewayEnv,
      }),
    );
    return new HttpStack(services, gateway);
  }

  get url(): string {
    return `http://${this.gateway.address}`;
  }

  async call(method: string, path: string, options: { body?: unknown; token?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, json: text === '' ? undefined : JSON.parse(text) };
  }

  /** Signs up (when new) and signs in a user over HTTP; returns the access token and user id. */
  async trader(username: string): Promise<{ token: string; userId: string }> {
    const password = `${username}-password-long`;
    await this.call('POST', '/v1/auth/sign-up', { body: { username, email: `${username}@example.com`, password } });
    return this.signIn(username, password);
  }

  async signIn(login: string, password: string): Promise<{ token: string; userId: string }> {
    const signedIn = await this.call('POST', '/v1/auth/sign-in', { body: { login, password } });
    if (signedIn.status !== 200) throw new Error(`sign-in of ${login}: ${JSON.stringify(signedIn.json)}`);
    const token = signedIn.json.tokens.accessToken as string;
    const me = await this.call('GET', '/v1/auth/me', { token });
    return { token, userId: me.json.user.id as string };
  }

  /** The admin's token (tests started with the default admin password). */
  async admin(): Promise<string> {
    return (await this.signIn('admin', ADMIN_PASSWORD)).token;
  }

  async stop(): Promise<void> {
    await this.gateway.stop();
    await this.services.stop();
  }
}
