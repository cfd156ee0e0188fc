import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseProcStat, parseStatusRss, readGroupUsage } from './proc-stats.ts';

describe('proc stats', () => {
  it('parses a stat line whose command name holds spaces and parentheses', () => {
    const line =
      '4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 3 0 1234 10000000 512 18446744073709551615';
    expect(parseProcStat(line)).toEqual({
      pid: 4242,
      state: 'S',
      ppid: 1,
      pgrp: 4242,
      utimeTicks: 257,
      stimeTicks: 53,
      numThreads: 3,
      rssPages: 512,
    });
    expect(parseProcStat('garbage')).toBeUndefined();
  });

  it('reads VmRSS in bytes from a status text', () => {
    expect(parseStatusRss('Name:\tsleep\nVmRSS:\t    1536 kB\nThreads:\t1\n')).toBe(1536 * 1024);
    expect(parseStatusRss('Name:\tkthreadd\n')).toBeUndefined();
  });

  it.runIf(process.platform === 'linux')(
    'sums a live process group and returns undefined for an empty one',
    async () => {
      const child = spawn('/bin/sh', ['-c', 'sleep 5 & sleep 5 & wait'], { detached: true, stdio: 'ignore' });
      try {
        await new Promise((r) => setTimeout(r, 200));
        const usage = await readGroupUsage(child.pid!);
        expect(usage?.processes).toBe(3);
        expect(usage?.memRssBytes).toBeGreaterThan(0);
      } finally {
        process.kill(-child.pid!, 'SIGKILL');
      }
      await new Promise((r) => child.once('exit', r));
      expect(await readGroupUsage(2 ** 22 + 1)).toBeUndefined();
    },
  );
});
