import { execFileSync } from 'node:child_process';
import { cpus, release, totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { readMachineBusySeconds } from './proc-stats';

export interface MachineFacts {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly commit: string;
  /** CPU busy on the whole machine in the second before the run, in % of one core: other work skews every figure. */
  readonly busyBeforePercent: number;
}

const BUSY_SAMPLE_MS = 1000;

/** What a reader needs to compare figures across machines; takes a second to sample how busy the machine already is. */
export async function machineFacts(): Promise<MachineFacts> {
  const busyBefore = readMachineBusySeconds();
  await sleep(BUSY_SAMPLE_MS);
  const busyBeforePercent = Math.round(((readMachineBusySeconds() - busyBefore) / (BUSY_SAMPLE_MS / 1000)) * 100);
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    // Not a git checkout: the figures stand without it.
  }
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    commit,
    busyBeforePercent,
  };
}
