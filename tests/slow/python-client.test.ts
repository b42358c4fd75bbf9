import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { TestPki, type PemFiles } from '@orderbook/test-support';
import { startInProcessServices, type InProcessServices } from '../support/in-process-services';

/**
 * Polyglot proof: a Python client generated from proto/ at test time (tests/polyglot/session.py)
 * runs a full session against the real services. Debian's interpreter is used on purpose: it has
 * python3-grpcio and python3-grpc-tools (`make test-slow` installs them first when they are
 * missing); the `python3` on PATH may be another interpreter without them.
 */
const PYTHON = '/usr/bin/python3';
const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'tests', 'polyglot', 'session.py');
const ADMIN = { login: 'admin', password: 'admin-password-for-python' };
const SCRIPT_TIMEOUT_MS = 120_000;

interface ScriptRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the script asynchronously: the servers live in this process, and a blocking call would starve them. */
function runPython(args: readonly string[]): Promise<ScriptRun> {
  return new Promise((resolve) => {
    execFile(PYTHON, [SCRIPT, ...args], { cwd: ROOT, timeout: SCRIPT_TIMEOUT_MS }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

const EXPECTED_CHECKS = [
  'generate Python stubs from proto/ (grpc_tools.protoc)',
  'sign up alice',
  'TOTP parameters',
  'TOTP enrolment returns 10 recovery codes',
  'sign-in asks for the second factor',
  'sign in with TOTP',
  'a replayed TOTP code is UNAUTHENTICATED',
  'sign in bob',
  'sign in as admin',
  'admin adds 1000.5 USD to alice',
  'admin adds 2 BTC to bob',
  "bob's sell 0.5 @ 100.25 rests",
  "alice's buy 0.3 @ 101 is filled",
  "one trade at the maker's price",
  "bob's order is partially filled",
  "alice's balances",
  "bob's balances",
  "the book shows bob's remaining 0.2 @ 100.25",
  'bob cancels the rest, 0.2 BTC released',
  "bob's balances after the cancel",
  'a price with 7 decimals is INVALID_ARGUMENT naming the price',
  'its trailer: ErrorInfo INVALID_FIELD and a BadRequest violation of price',
  'a call without a token is UNAUTHENTICATED',
  'its trailer: ErrorInfo ACCESS_TOKEN_MISSING',
  "a trader's AddFunds is PERMISSION_DENIED",
  'its trailer: ErrorInfo ADMIN_ROLE_REQUIRED',
  'a market order the book cannot fill is FAILED_PRECONDITION',
  'its trailer: ErrorInfo INSUFFICIENT_LIQUIDITY',
];

describe('a Python client generated from proto/ (Debian python3-grpcio + python3-grpc-tools), over mutual TLS', () => {
  let services: InProcessServices;
  let pkiDir: string;
  let pki: TestPki;
  let client: PemFiles;

  before(async () => {
    const probe = await new Promise<string>((resolve) =>
      execFile(PYTHON, ['-c', 'import grpc, grpc_tools'], (err, _stdout, stderr) => resolve(err === null ? '' : stderr)),
    );
    if (probe !== '') throw new Error(`${PYTHON} cannot import grpc and grpc_tools: run \`make test-slow\`, which installs python3-grpcio and python3-grpc-tools\n${probe}`);

    pkiDir = await mkdtemp(join(tmpdir(), 'orderbook-python-pki-'));
    pki = TestPki.createCa(pkiDir, 'python');
    client = pki.issue('python-client');
    const tls = (prefix: string, server: PemFiles): Record<string, string> => ({
      [`${prefix}_TLS_CERT_FILE`]: server.certFile,
      [`${prefix}_TLS_KEY_FILE`]: server.keyFile,
      [`${prefix}_TLS_CLIENT_CA_FILE`]: pki.ca.certFile,
    });
    const toAuth = pki.issue('matching-to-auth');
    services = await startInProcessServices('python', ADMIN.password, {
      auth: tls('AUTH', pki.issue('auth')),
      matching: {
        ...tls('MATCHING', pki.issue('matching')),
        MATCHING_AUTH_TLS_CA_FILE: pki.ca.certFile,
        MATCHING_AUTH_TLS_CERT_FILE: toAuth.certFile,
        MATCHING_AUTH_TLS_KEY_FILE: toAuth.keyFile,
      },
    });
  });

  after(async () => {
    await services?.stop();
    if (pkiDir !== undefined) await rm(pkiDir, { recursive: true, force: true });
  });

  it('signs up, signs in (with TOTP), gets funded by the admin, trades, reads trades and balances, and gets the right error statuses', async () => {
    const run = await runPython(['--auth', services.auth.address, '--matching', services.matching.address, '--admin-login', ADMIN.login, '--admin-password', ADMIN.password,
      '--ca', pki.ca.certFile, '--cert', client.certFile, '--key', client.keyFile]);
    const report = `exit code ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
    expect(run.code, report).to.equal(0);
    const passed = run.stdout.split('\n').filter((line) => line.startsWith('PASS ')).map((line) => line.slice('PASS '.length));
    expect(passed, report).to.include.members(EXPECTED_CHECKS);
    expect(run.stdout, report).to.not.match(/^FAIL /m);
    expect(run.stdout.trimEnd().split('\n').pop(), report).to.equal('python client session: all checks passed');
  });
});
