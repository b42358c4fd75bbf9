import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { RunningAuthServer } from '@orderbook/auth-service';
import { AuthClient, bearer, MatchingClient } from '@orderbook/test-support';
import { startTestAuth, testMatchingEnv } from '../support/in-process-services';
import { describeLog, spawnMatching, startMatchingProcess, type MatchingProcess } from '../support/matching-process';

/**
 * The data-directory lock across real processes: a matching service SIGKILLed in a fresh PID
 * namespace restarts although the new process gets the same pid (1, as in a container after an
 * OOM kill), and a second live process on the same directory is refused, naming it.
 */
const IN_NEW_PID_NAMESPACE = ['unshare', '--pid', '--fork', '--kill-child', '--'];
const ADMIN_PASSWORD = 'admin-password-for-tests';

/** The pid (in this namespace) of the node process that `unshare --fork` started. */
function forkedChild(unsharePid: number): number {
  const children = readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').trim().split(/\s+/).map(Number);
  const [pid] = children;
  if (pid === undefined || !(pid > 0)) throw new Error(`unshare ${unsharePid} has no child`);
  return pid;
}

function pidLogged(service: MatchingProcess): unknown {
  return service.log.find((e) => e.msg === 'matching service serving')?.pid;
}

describe('data directory lock (separate processes)', function () {
  this.timeout(120_000);
  let dir: string;
  let auth: RunningAuthServer;
  let authClient: AuthClient;
  let env: NodeJS.ProcessEnv;
  const started: MatchingProcess[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orderbook-lock-'));
    auth = await startTestAuth(dir, ADMIN_PASSWORD);
    authClient = new AuthClient(auth.address);
    env = { ...testMatchingEnv(dir, auth), LOG_LEVEL: 'info' };
  });

  after(async () => {
    for (const service of started) service.child.kill('SIGKILL');
    await Promise.all(started.map((s) => s.exited));
    authClient.close();
    await auth.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('restarts after SIGKILL when the new process gets the killed one\'s pid, with every acknowledged command', async () => {
    const { tokens } = await authClient.signIn({ login: 'admin', password: ADMIN_PASSWORD });
    const admin = bearer(tokens!.accessToken);
    const userId = '7d3c1f4e-8a9b-4c2d-9e1f-0a1b2c3d4e5f';

    const first = await startMatchingProcess(env, { wrapper: IN_NEW_PID_NAMESPACE });
    started.push(first);
    expect(pidLogged(first), 'node is pid 1 in its namespace').to.equal(1);
    const client = new MatchingClient(first.address);
    await client.addFunds({ userId, asset: 'USD', amount: '123' }, admin);
    client.close();
    process.kill(forkedChild(first.child.pid!), 'SIGKILL');
    expect(await first.exited, 'unshare reports the kill').to.not.equal(0);

    const second = await startMatchingProcess(env, { wrapper: IN_NEW_PID_NAMESPACE });
    started.push(second);
    expect(pidLogged(second), 'the same pid again').to.equal(1);
    const again = new MatchingClient(second.address);
    try {
      const { balance } = await again.addFunds({ userId, asset: 'USD', amount: '1' }, admin);
      expect(balance?.available).to.equal('124');
    } finally {
      again.close();
    }
    // unshare does not pass signals on: stop the service itself (graceful), and unshare exits with its status.
    process.kill(forkedChild(second.child.pid!), 'SIGTERM');
    expect(await second.exited).to.equal(0);
  });

  it('refuses a second live process on the same directory, naming the directory', async () => {
    const owner = await startMatchingProcess(env);
    started.push(owner);
    const intruder = spawnMatching(env);
    started.push(intruder);
    expect(await intruder.exited, 'the second process exits').to.not.equal(0);
    expect(describeLog(intruder)).to.match(new RegExp(`${join(dir, 'matching')} is in use by another running process`));
    expect(owner.child.exitCode, 'the owner goes on').to.equal(null);
    owner.child.kill('SIGTERM');
    expect(await owner.exited).to.equal(0);
  });
});
