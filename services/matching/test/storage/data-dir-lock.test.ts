import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { DataDirInUseError, lockDataDir } from '../../src/storage/data-dir-lock';
import { openCommandLoop, type CommandLoopOptions } from '../../src/loop/open-command-loop';
import { rejectionOf, silentLogger, tempDirs } from '../helpers';
import { LOAD_ENGINE_CONFIG } from '../random-load';

/** A node process that takes the lock on dir, prints "locked" and then waits to be killed. */
function lockingChild(dir: string) {
  const script =
    `const D=require(${JSON.stringify(require.resolve('better-sqlite3'))});const db=new D(${JSON.stringify(join(dir, 'LOCK.sqlite'))},{timeout:0});` +
    `db.pragma('locking_mode = EXCLUSIVE');db.exec('BEGIN EXCLUSIVE');process.stdout.write('locked');setInterval(()=>{},1000);`;
  return spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
}

describe('data directory lock', () => {
  const tempDir = tempDirs();
  const optionsFor = (dataDir: string): CommandLoopOptions => ({
    dataDir,
    engineConfig: LOAD_ENGINE_CONFIG,
    maxQueueDepth: 100,
    snapshotEvery: 1000,
    logger: silentLogger,
  });

  it('refuses a second loop on a directory in use, naming the directory, and allows it after close', async () => {
    const dataDir = tempDir();
    const first = await openCommandLoop(optionsFor(dataDir));
    const error = await rejectionOf(openCommandLoop(optionsFor(dataDir)));
    expect(error).to.be.instanceOf(DataDirInUseError);
    expect(error.message).to.contain(dataDir);
    await first.close();
    const second = await openCommandLoop(optionsFor(dataDir));
    await second.close();
  });

  it('is held by a live process and released by the kernel when that process is killed', async () => {
    const dataDir = tempDir();
    const child = lockingChild(dataDir);
    const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
    expect(chunk.toString()).to.equal('locked');
    expect(await rejectionOf(lockDataDir(dataDir))).to.be.instanceOf(DataDirInUseError);
    child.kill('SIGKILL');
    await once(child, 'exit');
    const lock = await lockDataDir(dataDir);
    await lock.release();
  });

  it('ignores the pid file of older versions and removes it', async () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'LOCK'), `${process.pid}\n`);
    const lock = await lockDataDir(dataDir);
    expect(existsSync(join(dataDir, 'LOCK'))).to.equal(false);
    await lock.release();
  });
});
