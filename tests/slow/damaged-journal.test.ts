import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { RunningAuthServer } from '@orderbook/auth-service';
import { AuthClient, bearer, MatchingClient } from '@orderbook/test-support';
import { startTestAuth, testMatchingEnv } from '../support/in-process-services';
import { describeLog, spawnMatching, startMatchingProcess, type MatchingProcess } from '../support/matching-process';

/**
 * Torn versus damaged, end to end: a matching service SIGKILLed, then its last journal record
 * damaged (complete, failing its checksum) — start-up refuses, naming file and offset, and
 * `make verify-data` says DAMAGED; only MATCHING_TRUNCATE_DAMAGED_TAIL=1 cuts it. A torn tail (a
 * short record) is cut by itself.
 */
const ROOT = join(__dirname, '..', '..');
const ADMIN_PASSWORD = 'admin-password-for-tests';
const USER = '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9';

function verifyData(dir: string): { code: number | null; out: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', join('services', 'matching', 'src', 'verify-main.ts'), dir], { cwd: ROOT, encoding: 'utf8' });
  return { code: run.status, out: run.stdout + run.stderr };
}

describe('a damaged or torn journal tail (separate processes)', function () {
  this.timeout(120_000);
  let dir: string;
  let dataDir: string;
  let segment: string;
  let auth: RunningAuthServer;
  let admin: AuthClient;
  const processes: MatchingProcess[] = [];
  let env: NodeJS.ProcessEnv;

  async function balance(address: string): Promise<string | undefined> {
    const { tokens } = await admin.signIn({ login: 'admin', password: ADMIN_PASSWORD });
    const client = new MatchingClient(address);
    try {
      // A zero deposit is refused; a deposit of the smallest unit reads the balance and adds 0.00000001.
      return (await client.addFunds({ userId: USER, asset: 'USD', amount: '0.00000001' }, bearer(tokens!.accessToken))).balance?.available;
    } finally {
      client.close();
    }
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orderbook-damaged-'));
    dataDir = join(dir, 'matching');
    auth = await startTestAuth(dir, ADMIN_PASSWORD);
    admin = new AuthClient(auth.address);
    env = { ...testMatchingEnv(dir, auth), LOG_LEVEL: 'info' };
    const service = await startMatchingProcess(env);
    processes.push(service);
    const { tokens } = await admin.signIn({ login: 'admin', password: ADMIN_PASSWORD });
    const client = new MatchingClient(service.address);
    for (const amount of ['100', '20', '3']) await client.addFunds({ userId: USER, asset: 'USD', amount }, bearer(tokens!.accessToken));
    client.close();
    service.child.kill('SIGKILL');
    await service.exited;
    segment = join(dataDir, `journal-${'1'.padStart(16, '0')}.log`);
  });

  after(async () => {
    for (const service of processes) service.child.kill('SIGKILL');
    await Promise.all(processes.map((s) => s.exited));
    admin.close();
    await auth.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses to start on a complete last record that fails its checksum, naming file and offset; verify-data says DAMAGED', async () => {
    const bytes = readFileSync(segment);
    const damaged = Buffer.from(bytes);
    damaged[damaged.length - 2] ^= 0x04;
    writeFileSync(segment, damaged);

    const refused = spawnMatching(env);
    processes.push(refused);
    expect(await refused.exited).to.not.equal(0);
    expect(describeLog(refused)).to.match(new RegExp(`${segment} ends with a complete record at byte \\d+ that fails its checksum.*MATCHING_TRUNCATE_DAMAGED_TAIL=1`));
    expect(readFileSync(segment).equals(damaged), 'the file is left as it was').to.equal(true);

    const report = verifyData(dataDir);
    expect(report.code).to.equal(1);
    expect(report.out).to.match(/DAMAGED[\s\S]*fails its checksum[\s\S]*result: DAMAGED/);
  });

  it('cuts the damaged record only when the operator says so, losing exactly the commands in it', async () => {
    const service = await startMatchingProcess({ ...env, MATCHING_TRUNCATE_DAMAGED_TAIL: '1' });
    processes.push(service);
    expect(describeLog(service)).to.match(/cutting it as the operator asked/);
    expect(await balance(service.address), 'the last deposit (3) was in the damaged record').to.equal('120.00000001');
    service.child.kill('SIGKILL');
    await service.exited;
    expect(verifyData(dataDir).code).to.equal(0);
  });

  it('cuts a torn last record by itself', async () => {
    appendFileSync(segment, Buffer.from([0x9e, 0x3a, 0xc0, 0xb7, 0xff]));
    expect(verifyData(dataDir).out).to.match(/torn tail at byte \d+[\s\S]*result: OK/);
    const service = await startMatchingProcess(env);
    processes.push(service);
    expect(describeLog(service)).to.match(/torn record.*truncating it/);
    expect(await balance(service.address)).to.equal('120.00000002');
    service.child.kill('SIGTERM');
    expect(await service.exited).to.equal(0);
  });
});
