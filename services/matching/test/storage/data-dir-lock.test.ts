import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { DataDirInUseError } from '../../src/storage/data-dir-lock';
import { openCommandLoop, type CommandLoopOptions } from '../../src/loop/open-command-loop';
import { rejectionOf, silentLogger, tempDirs } from '../helpers';
import { LOAD_ENGINE_CONFIG } from '../random-load';

describe('data directory lock', () => {
  const tempDir = tempDirs();
  const optionsFor = (dataDir: string): CommandLoopOptions => ({
    dataDir,
    engineConfig: LOAD_ENGINE_CONFIG,
    maxQueueDepth: 100,
    snapshotEvery: 1000,
    logger: silentLogger,
  });

  it('refuses a second loop on a directory in use, and allows it after close', async () => {
    const dataDir = tempDir();
    const first = await openCommandLoop(optionsFor(dataDir));
    const error = await rejectionOf(openCommandLoop(optionsFor(dataDir)));
    expect(error).to.be.instanceOf(DataDirInUseError);
    expect(error.message).to.contain(String(process.pid));
    await first.close();
    const second = await openCommandLoop(optionsFor(dataDir));
    await second.close();
  });

  it('takes over a lock left by a process that no longer runs (e.g. after SIGKILL)', async () => {
    const dataDir = tempDir();
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(gone.stdout);
    expect(deadPid).to.be.greaterThan(0);
    writeFileSync(join(dataDir, 'LOCK'), `${deadPid}\n`);
    const loop = await openCommandLoop(optionsFor(dataDir));
    expect(readFileSync(join(dataDir, 'LOCK'), 'utf8').trim()).to.equal(String(process.pid));
    await loop.close();
  });
});
