import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { decodeBatch } from '@orderbook/matching-service/src/storage/command-codec';
import { scanRecords } from '@orderbook/matching-service/src/storage/journal-record';

/**
 * Every acknowledged command was on disk before its acknowledgement, in the production wiring:
 * the child runs openCommandLoop under strace, and the kernel's own record of the system calls must
 * show, for every "ack <seq>" the child wrote, the journal write holding that command, then an
 * fdatasync (or fsync) of that same file that began after the write returned and returned before
 * the acknowledgement was written. A SIGKILL keeps the page cache, so a crash test cannot see a
 * missing sync; this can. (strace prints a call's completion before the thread that made it runs
 * on, so the order of the trace's lines is the order of cause and effect.)
 */

interface Syscall {
  readonly pid: number;
  readonly name: string;
  /** The file of the first argument, from strace -y: "/tmp/.../journal-0000000000000001.log". */
  readonly path: string;
  readonly line: string;
  /** Line numbers in the trace where the call began and where it returned. */
  readonly entry: number;
  exit: number;
  result: string;
}

/** Parses strace -f -y output (lines "<pid> <call>", the pid padded with spaces) into calls, joining "<unfinished ...>" with "<... resumed>". */
function parseTrace(text: string): Syscall[] {
  const calls: Syscall[] = [];
  const open = new Map<number, Syscall>();
  text.split('\n').forEach((raw, index) => {
    const match = /^(\d+) +(.*)$/.exec(raw);
    if (match === null) return;
    const pid = Number(match[1]);
    const rest = match[2];
    const resumed = /^<\.\.\. (\w+) resumed>.*\) += (.*)$/.exec(rest);
    if (resumed !== null) {
      const call = open.get(pid);
      if (call === undefined || call.name !== resumed[1]) throw new Error(`trace line ${index + 1}: resumed without a start: ${raw}`);
      call.exit = index;
      call.result = resumed[2];
      open.delete(pid);
      return;
    }
    const started = /^(\w+)\((?:\d+<([^>]*)>)?(.*)$/.exec(rest);
    if (started === null) return;
    const call: Syscall = { pid, name: started[1], path: started[2] ?? '', line: rest, entry: index, exit: index, result: '' };
    const unfinished = rest.endsWith('<unfinished ...>');
    if (unfinished) open.set(pid, call);
    else call.result = /\) += (.*)$/.exec(rest)?.[1] ?? '';
    calls.push(call);
  });
  return calls;
}

const ESCAPES: Record<string, number> = { n: 10, t: 9, r: 13, v: 11, f: 12, '"': 34, '\\': 92 };

/** The bytes of the buffer strace printed as a write's second argument (C escapes: \n, \", \ooo octal, \xhh). */
function writtenBytes(line: string): Buffer {
  const quoted = /^\w+\([^,]*, "((?:[^"\\]|\\.)*)"/.exec(line)?.[1] ?? '';
  const bytes: number[] = [];
  for (let i = 0; i < quoted.length; i++) {
    if (quoted[i] !== '\\') {
      bytes.push(quoted.charCodeAt(i));
      continue;
    }
    const next = quoted[++i]!;
    const hex = next === 'x' ? /^[0-9a-f]{1,2}/i.exec(quoted.slice(i + 1))?.[0] : undefined;
    const octal = /^[0-7]{1,3}/.exec(quoted.slice(i))?.[0];
    if (hex !== undefined) {
      bytes.push(parseInt(hex, 16));
      i += hex.length;
    } else if (octal !== undefined) {
      bytes.push(parseInt(octal, 8));
      i += octal.length - 1;
    } else {
      bytes.push(ESCAPES[next] ?? next.charCodeAt(0));
    }
  }
  return Buffer.from(bytes);
}

/** The seqs of the commands in a journal write (one record per write). */
function seqsWritten(call: Syscall): number[] {
  return scanRecords(writtenBytes(call.line)).payloads.flatMap((payload) => decodeBatch(payload).map((c) => c.seq));
}

const CLIENTS = 4;
const COMMANDS_PER_CLIENT = 60;
const JOURNAL_FILE = /\/journal-\d+\.log$/;

describe('the production journal path syncs each batch before acknowledging it (strace)', function () {
  this.timeout(180_000);
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'journal-sync-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('shows write, then fdatasync of that journal file, then the acknowledgement, for every command', () => {
    const trace = join(dir, 'trace.txt');
    const run = spawnSync(
      'strace',
      ['-f', '-y', '-s', '10000000', '--seccomp-bpf', '-e', 'trace=write,pwrite64,fdatasync,fsync', '-o', trace,
        process.execPath, '--import', 'tsx', join(__dirname, 'children', 'journal-sync-child.ts'), join(dir, 'data'),
        String(CLIENTS), String(COMMANDS_PER_CLIENT)],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    expect(run.error, 'strace could not run (make test-tools installs it)').to.equal(undefined);
    expect(run.status, run.stderr).to.equal(0);

    const calls = parseTrace(readFileSync(trace, 'utf8'));
    expect(calls.length, 'system calls read from the trace').to.be.above(0);
    const mainPid = calls[0].pid;
    const acks = calls.filter((c) => c.pid === mainPid && c.name === 'write' && /^write\(1</.test(c.line))
      .flatMap((c) => [...c.line.matchAll(/ack (\d+)\\n/g)].map((m) => ({ seq: Number(m[1]), call: c })));
    const journalWrites = calls.filter((c) => (c.name === 'write' || c.name === 'pwrite64') && JOURNAL_FILE.test(c.path));
    const syncs = calls.filter((c) => (c.name === 'fdatasync' || c.name === 'fsync') && JOURNAL_FILE.test(c.path) && c.result === '0');

    expect(acks.map((a) => a.seq).sort((a, b) => a - b)).to.deep.equal(Array.from({ length: CLIENTS * COMMANDS_PER_CLIENT }, (_, i) => i + 1));
    expect(new Set(journalWrites.map((w) => w.path)).size, 'segments rolled during the run').to.be.above(1);
    expect(journalWrites.length, 'group commit: fewer records than commands').to.be.below(acks.length);

    const written = journalWrites.map((w) => ({ write: w, seqs: seqsWritten(w) }));
    for (const { seq, call: ack } of acks) {
      const holding = written.filter((w) => w.seqs.includes(seq)).map((w) => w.write);
      expect(holding, `journal writes holding seq ${seq}`).to.have.length(1);
      const [write] = holding;
      const synced = syncs.some((s) => s.path === write.path && s.entry > write.exit && s.exit < ack.entry);
      expect(synced, `seq ${seq}: no sync of ${write.path} between its write (trace line ${write.exit + 1}) and its ack (line ${ack.entry + 1})`).to.equal(true);
    }
  });
});
