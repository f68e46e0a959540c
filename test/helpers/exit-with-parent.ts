/**
 * Preloaded (`--import`) into every process a test starts: when the test process goes away —
 * even by SIGKILL, when the runner's per-file timeout kills a hung file — the IPC channel closes,
 * and this process stops too (SIGTERM, so `jobplane start` drains and stops its embedded
 * PostgreSQL; a hard exit 15 s later if that hangs). Without it an orphan keeps its port and its
 * database connections, and in CI it can hold the runner's output open until the job times out.
 */
if (process.send) {
  process.once('disconnect', () => {
    setTimeout(() => process.exit(1), 15_000).unref();
    process.kill(process.pid, 'SIGTERM');
  });
}
