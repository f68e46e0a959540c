/**
 * Preloaded (`--import`) into every process a test starts: when the test process goes away —
 * even by SIGKILL, when the runner's per-file timeout kills a hung file — the IPC channel closes,
 * and this process stops too (SIGTERM, so `jobplane start` drains and stops its embedded
 * PostgreSQL; a hard kill 15 s later if that hangs). Without it an orphan keeps its port and its
 * database connections, and in CI it can hold the runner's output open until the job times out.
 *
 * The hard kill comes from a watchdog process, not from a timer here: an orphan was once found
 * 30 minutes later with its main thread blocked in Atomics.wait (Node's module-loader hooks
 * thread, which tsx uses, during shutdown; see nodejs/node#51035), where no timer ever fires.
 * The watchdog checks that the pid still runs this preload before it kills, so a reused pid is
 * left alone.
 */
import { spawn } from 'node:child_process';

const HARD_KILL_AFTER_S = 15;

if (process.send) {
  process.once('disconnect', () => {
    const pid = process.pid;
    spawn('/bin/sh', ['-c', `sleep ${HARD_KILL_AFTER_S}; grep -q exit-with-parent /proc/${pid}/cmdline 2>/dev/null && kill -9 ${pid}`], {
      detached: true,
      stdio: 'ignore',
    }).unref();
    process.kill(pid, 'SIGTERM');
  });
}
