import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadConfig as loadAuthConfig, startAuthServer, type RunningAuthServer } from '@orderbook/auth-service';
import { loadConfig as loadMatchingConfig, startMatchingServer, type RunningMatchingServer } from '@orderbook/matching-service';

const root = join(__dirname, '..', '..');

/** The shell blocks between the walkthrough markers of the README, in order. */
function walkthroughScript(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = /<!-- walkthrough:start -->([\s\S]*)<!-- walkthrough:end -->/.exec(readme)?.[1];
  if (!section) throw new Error('README has no walkthrough section');
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
}

describe('README grpcurl walk-through, pasted into bash against real services', () => {
  let dir: string;
  let auth: RunningAuthServer;
  let matching: RunningMatchingServer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'orderbook-readme-'));
    auth = await startAuthServer(
      loadAuthConfig({
        AUTH_PORT: '0',
        AUTH_DATA_DIR: join(dir, 'auth'),
        AUTH_BCRYPT_COST: '4',
        AUTH_ADMIN_USERNAME: 'admin',
        AUTH_ADMIN_EMAIL: 'admin@example.com',
        AUTH_ADMIN_PASSWORD: 'orderbook-admin',
        LOG_LEVEL: 'silent',
      }),
    );
    matching = await startMatchingServer(
      loadMatchingConfig({
        MATCHING_PORT: '0',
        MATCHING_METRICS_PORT: '0',
        MATCHING_DATA_DIR: join(dir, 'matching'),
        AUTH_ADDRESS: auth.address,
        LOG_LEVEL: 'silent',
      }),
    );
    const grpcurl = join(dir, 'bin', 'grpcurl');
    mkdirSync(join(dir, 'bin'));
    writeFileSync(grpcurl, `#!/bin/sh\nexec "${process.execPath}" --import tsx "${join(__dirname, '..', 'readme', 'grpcurl-shim.ts')}" "$@"\n`);
    chmodSync(grpcurl, 0o755);
  });

  after(async () => {
    await matching?.stop();
    await auth?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs every command, and the numbers are the ones the README states', async function () {
    this.timeout(120_000);
    const script = walkthroughScript().replace(
      'AUTH=127.0.0.1:50051 MATCHING=127.0.0.1:50052',
      `AUTH=${auth.address} MATCHING=${matching.address}`,
    );
    expect(script).to.contain(auth.address);
    // Asynchronously: the servers run in this process and must keep answering while bash runs.
    const run = await new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        'bash',
        ['-e', '-o', 'pipefail', '-c', script],
        { cwd: root, encoding: 'utf8', env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}` } },
        (err, stdout, stderr) => resolve({ status: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(run.stderr, run.stdout).to.match(/ERROR:\n {2}Code: InvalidArgument\n {2}Message: price: .+/);
    expect(run.status, run.stderr).to.equal(0);

    const documents = run.stdout.split(/\n(?=\{)/).map((text) => JSON.parse(text) as Record<string, unknown>);
    const balances = documents.filter((d) => 'balances' in d).map((d) => d.balances);
    expect(balances).to.deep.equal([
      [
        { asset: 'BTC', available: '0.6', locked: '0' },
        { asset: 'USD', available: '81900', locked: '0' },
      ],
      [
        { asset: 'BTC', available: '1.4', locked: '0' },
        { asset: 'USD', available: '18100', locked: '0' },
      ],
    ]);
    const book = documents.find((d) => 'asks' in d) as { asks: unknown[] };
    expect(book.asks).to.deep.equal([
      { price: '30000', quantity: '0.5', orderCount: 1 },
      { price: '31000', quantity: '0.5', orderCount: 1 },
    ]);
    const cancelled = documents.find((d) => 'releasedAmount' in d);
    expect(cancelled).to.include({ releasedAmount: '0.4', releasedAsset: 'BTC' });
  });
});
