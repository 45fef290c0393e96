// A Runnel server of a test's own, for tests that need settings the shared server does not have (TLS, an
// account-wide commitment that must not leak into other suites).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// This file is <repo>/tests/interop/js/server.js.
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const RUNNEL_DLL = join(REPO_ROOT, 'src', 'Runnel', 'bin', 'Release', 'net10.0', 'runnel.dll');
// What scripts/test.sh counts as an internal failure in a server log.
const FAILURE_MARKERS = ['Unhandled exception', 'InternalFailure', 'fail:'];
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

export async function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

/**
 * Spawns a Runnel server of a test's own (the Release build of this checkout, a fresh data directory under
 * `root`) with a plain port picked free and `flags`; does not wait for it. `stop()` sends SIGTERM, then SIGKILL
 * after `graceMs`, and returns whether SIGTERM alone stopped it. The server is also killed if the runner exits.
 */
export async function spawnRunnel(root, flags) {
  assert.ok((() => { try { return readFileSync(RUNNEL_DLL).length > 0; } catch { return false; } })(),
    `${RUNNEL_DLL} not found: build first (dotnet build -c Release src/Runnel)`);
  const port = await freePort();
  const output = [];
  const child = spawn('dotnet', [RUNNEL_DLL, 'serve', '--port', String(port), '--data-dir', join(root, 'data'), ...flags],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (chunk) => output.push(chunk));
  child.stderr.on('data', (chunk) => output.push(chunk));
  const exited = new Promise((done) => child.on('exit', () => done(true)));
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    running,
    log: () => Buffer.concat(output).toString('utf8'),
    failures() {
      return this.log().split('\n').filter((line) => FAILURE_MARKERS.some((m) => line.includes(m)));
    },
    async stop(graceMs = 10_000) {
      let stoppedByTerm = true;
      if (running()) {
        child.kill('SIGTERM');
        stoppedByTerm = await Promise.race([exited, sleep(graceMs).then(() => false)]);
        if (!stoppedByTerm) {
          child.kill('SIGKILL');
          await Promise.race([exited, sleep(5000)]);
        }
      }
      process.off('exit', killOnExit);
      return stoppedByTerm;
    },
  };
}
