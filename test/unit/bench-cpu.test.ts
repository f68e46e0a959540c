import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  CpuWindow,
  clockTicksPerSecond,
  cpuPerJob,
  diffSnapshots,
  parseProcStat,
  readProcStat,
  snapshotByComm,
} from '../../bench/lib/cpu.js';

/** A /proc/<pid>/stat line with the given comm, utime, stime and start time (other fields plausible). */
function statLine(pid: number, comm: string, utime: number, stime: number, startTime: number): string {
  // Fields 3..22: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime prio nice threads itreal starttime
  return `${pid} (${comm}) S 1 ${pid} ${pid} 0 -1 4194560 120 0 0 0 ${utime} ${stime} 7 9 20 0 4 0 ${startTime} 226000000 5000 18446744073709551615\n`;
}

/** A throwaway /proc-like folder; `put` writes or replaces one process's stat file. */
function fakeProc(): { root: string; put: (pid: number, comm: string, utime: number, stime: number, startTime: number) => void; drop: (pid: number) => void; done: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'jobplane-bench-proc-'));
  mkdirSync(join(root, 'self'));
  writeFileSync(join(root, 'uptime'), '100.00 150.00\n');
  return {
    root,
    put(pid, comm, utime, stime, startTime) {
      mkdirSync(join(root, String(pid)), { recursive: true });
      writeFileSync(join(root, String(pid), 'stat'), statLine(pid, comm, utime, stime, startTime));
    },
    drop(pid) {
      rmSync(join(root, String(pid)), { recursive: true, force: true });
    },
    done() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

test('a /proc stat line yields pid, comm, utime, stime and start time, even when comm holds spaces and parentheses', () => {
  assert.deepEqual(parseProcStat(statLine(4242, 'postgres', 150, 30, 98765)), { pid: 4242, comm: 'postgres', utime: 150, stime: 30, startTime: 98765 });
  assert.deepEqual(parseProcStat(statLine(7, 'a (b) c', 1, 2, 3)), { pid: 7, comm: 'a (b) c', utime: 1, stime: 2, startTime: 3 });
  for (const bad of ['', 'garbage', '12 (x) S 1 2']) assert.equal(parseProcStat(bad), null, bad);
});

test('this process can read its own CPU time from the real /proc, and clock ticks are a positive whole number', () => {
  const self = readProcStat(process.pid);
  assert.ok(self, 'own /proc/<pid>/stat is readable');
  assert.equal(self.pid, process.pid);
  assert.ok(self.utime + self.stime >= 0);
  const ticks = clockTicksPerSecond();
  assert.ok(Number.isInteger(ticks) && ticks > 0, String(ticks));
  assert.equal(readProcStat(2 ** 30), null, 'a pid that does not exist reads as null');
});

test('only processes whose comm is postgres are taken from a /proc folder; other entries and other programs are ignored', () => {
  const proc = fakeProc();
  try {
    proc.put(10, 'postgres', 5, 1, 100);
    proc.put(11, 'postgres', 7, 2, 101);
    proc.put(12, 'node', 500, 50, 102);
    proc.put(13, 'postgres-exporter', 9, 9, 103);
    const snap = snapshotByComm('postgres', proc.root);
    assert.deepEqual([...snap.entries()].sort(), [['10:100', 6], ['11:101', 9]]);
  } finally {
    proc.done();
  }
});

test('over a window, processes seen at both ends count their difference, new ones count whole, and ended ones count nothing but are reported', () => {
  const start = new Map([['1:10', 100], ['2:20', 50], ['3:30', 70]]);
  // 1 ran 30 more ticks; 2 ended; 3 is gone and its pid came back as another process (new start time); 4 is new.
  const end = new Map([['1:10', 130], ['3:99', 5], ['4:40', 20]]);
  const d = diffSnapshots(start, end, 100);
  assert.equal(d.us, (30 + 5 + 20) * 10_000);
  assert.deepEqual({ both: d.both, appeared: d.appeared, ended: d.ended }, { both: 1, appeared: 2, ended: 2 });
});

test('a CPU window adds the workers and the PostgreSQL processes, and divides by jobs in microseconds', () => {
  const proc = fakeProc();
  try {
    proc.put(100, 'node', 10, 5, 1000); // worker
    proc.put(200, 'postgres', 40, 10, 900); // postmaster
    proc.put(201, 'postgres', 4, 1, 950); // a backend that ends during the window
    const window = CpuWindow.open([100], proc.root, 100);
    proc.put(100, 'node', 110, 25, 1000); // +120 ticks
    proc.put(200, 'postgres', 45, 10, 900); // +5 ticks
    proc.drop(201);
    proc.put(202, 'postgres', 60, 15, 1200); // a backend that started during the window: 75 ticks
    const reading = window.close();
    assert.equal(reading.workers.us, 120 * 10_000);
    assert.equal(reading.postgres.us, (5 + 75) * 10_000);
    assert.equal(reading.totalUs, 200 * 10_000);
    assert.deepEqual(
      { both: reading.postgres.both, appeared: reading.postgres.appeared, ended: reading.postgres.ended },
      { both: 1, appeared: 1, ended: 1 },
    );
    const per = cpuPerJob(reading, 1000);
    assert.equal(per.cpuUsPerJob, 2000);
    assert.equal(per.workerCpuUsPerJob, 1200);
    assert.equal(per.pgCpuUsPerJob, 800);
    assert.equal(per.cpu.workerMs, 1200);
    assert.equal(per.cpu.pgMs, 800);
    assert.equal(cpuPerJob(reading, 0).cpuUsPerJob, null, 'no jobs, no per-job figure');
  } finally {
    proc.done();
  }
});
