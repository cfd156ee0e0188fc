import { readdir, readFile } from 'node:fs/promises';

/**
 * Linux reports cpu times in /proc in clock ticks of USER_HZ, which is 100 on every mainstream
 * architecture (the kernel fixes it for the user ABI regardless of CONFIG_HZ).
 */
export const USER_HZ = 100;

/** What one /proc/<pid>/stat line tells us. */
export interface ProcStat {
  readonly pid: number;
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
  /** User and system cpu time in clock ticks, including waited-for children. */
  readonly utimeTicks: number;
  readonly stimeTicks: number;
  readonly numThreads: number;
  readonly rssPages: number;
}

/**
 * Parses a /proc/<pid>/stat line. The second field (the command name) is in parentheses and may
 * itself contain spaces and parentheses, so the fields are counted from the last ')'.
 */
export function parseProcStat(line: string): ProcStat | undefined {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(line.slice(0, open).trim());
  // After ')' come fields 3.. of proc(5): field k is at index k - 3.
  const f = line
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const num = (k: number) => Number(f[k - 3]);
  if (f.length < 22 || !Number.isInteger(pid)) return undefined;
  return {
    pid,
    state: f[0]!,
    ppid: num(4),
    pgrp: num(5),
    utimeTicks: num(14) + num(16),
    stimeTicks: num(15) + num(17),
    numThreads: num(20),
    rssPages: num(24),
  };
}

/** Resident set size in bytes from a /proc/<pid>/status text (`VmRSS:   1234 kB`). */
export function parseStatusRss(text: string): number | undefined {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** Cpu time and memory of a process group, summed over its live members. */
export interface GroupUsage {
  readonly cpusUserTimeSecs: number;
  readonly cpusSystemTimeSecs: number;
  readonly memRssBytes: number;
  readonly processes: number;
  readonly threads: number;
}

/**
 * Sums the usage of every live process in process group `pgid` (a task's shell and everything it
 * started), as a cgroup would. Returns undefined where /proc is not available (macOS) or the group
 * has no process left.
 */
export async function readGroupUsage(pgid: number, procRoot = '/proc'): Promise<GroupUsage | undefined> {
  let entries: string[];
  try {
    entries = await readdir(procRoot);
  } catch {
    return undefined;
  }
  let user = 0;
  let system = 0;
  let rss = 0;
  let processes = 0;
  let threads = 0;
  await Promise.all(
    entries
      .filter((name) => /^\d+$/.test(name))
      .map(async (name) => {
        let stat: ProcStat | undefined;
        try {
          stat = parseProcStat(await readFile(`${procRoot}/${name}/stat`, 'utf8'));
        } catch {
          return; // exited while we were looking
        }
        if (!stat || stat.pgrp !== pgid || stat.state === 'Z') return;
        let bytes: number | undefined;
        try {
          bytes = parseStatusRss(await readFile(`${procRoot}/${name}/status`, 'utf8'));
        } catch {
          return;
        }
        user += stat.utimeTicks;
        system += stat.stimeTicks;
        rss += bytes ?? 0;
        processes += 1;
        threads += stat.numThreads;
      }),
  );
  if (processes === 0) return undefined;
  return {
    cpusUserTimeSecs: user / USER_HZ,
    cpusSystemTimeSecs: system / USER_HZ,
    memRssBytes: rss,
    processes,
    threads,
  };
}
