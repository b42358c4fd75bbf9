import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { AuthClient, bearer, eventually, MatchingClient, unusedPort } from '@orderbook/test-support';

const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);

/** Copies the repository as a deployment would receive it after `make build`: manifests, lock file, sources and dist/, no node_modules. */
function copyRelease(target: string): void {
  for (const file of ['package.json', 'package-lock.json']) cpSync(join(ROOT, file), join(target, file));
  for (const group of ['packages', 'services']) {
    for (const name of readdirSync(join(ROOT, group))) {
      cpSync(join(ROOT, group, name), join(target, group, name), { recursive: true, filter: (source) => !source.includes('node_modules') });
    }
  }
}

function start(dir: string, service: 'auth' | 'matching', env: Record<string, string>): { child: ChildProcess; output: () => string } {
  let output = '';
  // Plain node, no tsx, no export condition: the compiled JavaScript with the production dependencies only.
  const child = spawn(process.execPath, [join('services', service, 'dist', 'src', 'main.js')], {
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

describe('the production dependency tree runs the compiled services (npm ci --omit=dev in a scratch directory)', function () {
  this.timeout(600_000);
  let dir: string;
  const children: ChildProcess[] = [];

  before(async () => {
    await run('npx', ['tsc', '-b'], { cwd: ROOT });
    dir = mkdtempSync(join(tmpdir(), 'orderbook-release-'));
    copyRelease(dir);
    // Install scripts are skipped and better-sqlite3's native binary is taken from this checkout's
    // install: compiling it again takes minutes and proves nothing about the dependency tree.
    await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, env: { ...process.env, npm_config_nodedir: '/usr' } });
    cpSync(join(ROOT, 'node_modules', 'better-sqlite3', 'build'), join(dir, 'node_modules', 'better-sqlite3', 'build'), { recursive: true });
  });
  after(async () => {
    for (const child of children) await stop(child);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('has no development dependency installed', () => {
    for (const devOnly of ['tsx', 'typescript', 'mocha', '@bufbuild/buf', 'ts-proto', 'google-proto-files']) {
      expect(existsSync(join(dir, 'node_modules', devOnly)), devOnly).to.equal(false);
    }
  });

  it('starts auth and matching with plain node and answers an authenticated call', async () => {
    const [authPort, matchingPort] = [await unusedPort(), await unusedPort()];
    const auth = start(dir, 'auth', {
      AUTH_PORT: String(authPort),
      AUTH_DATA_DIR: join(dir, 'data', 'auth'),
      AUTH_BCRYPT_COST: '4',
      AUTH_ADMIN_USERNAME: 'admin',
      AUTH_ADMIN_EMAIL: 'admin@example.com',
      AUTH_ADMIN_PASSWORD: 'release-admin-password',
    });
    children.push(auth.child);
    const matching = start(dir, 'matching', {
      MATCHING_PORT: String(matchingPort),
      MATCHING_METRICS_PORT: '0',
      MATCHING_DATA_DIR: join(dir, 'data', 'matching'),
      AUTH_ADDRESS: `127.0.0.1:${authPort}`,
    });
    children.push(matching.child);
    const authClient = new AuthClient(`127.0.0.1:${authPort}`);
    const matchingClient = new MatchingClient(`127.0.0.1:${matchingPort}`);
    try {
      const token = await eventually(
        async () => (await authClient.signIn({ login: 'admin', password: 'release-admin-password' }).catch(() => undefined))?.tokens?.accessToken,
        'auth to answer a sign-in',
        60_000,
        250,
      );
      const balances = await eventually(
        () => matchingClient.getBalances(bearer(token)).catch(() => undefined),
        'matching to answer GetBalances',
        60_000,
        250,
      );
      expect(balances.balances).to.deep.equal([]);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nauth output:\n${auth.output()}\nmatching output:\n${matching.output()}`);
    } finally {
      authClient.close();
      matchingClient.close();
    }
  });
});
