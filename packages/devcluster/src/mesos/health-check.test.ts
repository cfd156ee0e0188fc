import { FakeClock } from '@berth/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HealthChecker, type HealthCheckSpec, type HealthResult, parseHealthCheck } from './health-check.ts';

function spec(over: Partial<HealthCheckSpec> = {}): HealthCheckSpec {
  return {
    type: 'TCP',
    tcp: { port: 1 },
    delayMs: 0,
    intervalMs: 1000,
    timeoutMs: 500,
    consecutiveFailures: 3,
    gracePeriodMs: 0,
    ...over,
  };
}

/** A checker whose probe answers from `answers` (the last one repeats) on a fake clock. */
function run(s: HealthCheckSpec, answers: (boolean | 'hang')[]) {
  const clock = new FakeClock(1_000_000);
  const results: (HealthResult & { at: number })[] = [];
  let i = 0;
  const checker = new HealthChecker({
    spec: s,
    clock,
    probe: async () => {
      const a = answers[Math.min(i++, answers.length - 1)];
      if (a === 'hang') return new Promise<boolean>(() => undefined);
      return a as boolean;
    },
    onResult: (r) => results.push({ ...r, at: clock.now() - 1_000_000 }),
  });
  return { clock, results, checker, probes: () => i };
}

describe('parseHealthCheck', () => {
  it('fills in mesos.proto defaults (15/10/20 s, 3 failures, 10 s grace) and the HTTP path and scheme', () => {
    expect(parseHealthCheck({ type: 'HTTP', http: { port: 8080 } })).toEqual({
      type: 'HTTP',
      http: { port: 8080, path: '/', scheme: 'http' },
      delayMs: 15_000,
      intervalMs: 10_000,
      timeoutMs: 20_000,
      consecutiveFailures: 3,
      gracePeriodMs: 10_000,
    });
  });

  it('turns fractional seconds into milliseconds and keeps the command environment', () => {
    const parsed = parseHealthCheck({
      type: 'COMMAND',
      command: { value: 'test -f ok', environment: { variables: [{ name: 'A', value: '1' }] } },
      delay_seconds: 0.05,
      interval_seconds: 0.1,
      timeout_seconds: 0.5,
      grace_period_seconds: 0,
      consecutive_failures: 2,
    });
    expect(parsed).toMatchObject({
      command: { value: 'test -f ok', shell: true, env: { A: '1' } },
      delayMs: 50,
      intervalMs: 100,
      timeoutMs: 500,
      gracePeriodMs: 0,
      consecutiveFailures: 2,
    });
  });

  it("refuses what Mesos' master refuses, with its messages", () => {
    expect(parseHealthCheck({})).toBe("HealthCheck must specify 'type'");
    expect(parseHealthCheck({ type: 'COMMAND' })).toBe(
      "Expecting 'command' to be set for COMMAND health check",
    );
    expect(parseHealthCheck({ type: 'COMMAND', command: { shell: false } })).toBe(
      "Command health check must contain 'executable path'",
    );
    expect(parseHealthCheck({ type: 'HTTP' })).toBe("Expecting 'http' to be set for HTTP health check");
    expect(parseHealthCheck({ type: 'HTTP', http: { port: 80, scheme: 'ftp' } })).toBe(
      "Unsupported HTTP health check scheme: 'ftp'",
    );
    expect(parseHealthCheck({ type: 'HTTP', http: { port: 80, path: 'health' } })).toBe(
      "The path 'health' of HTTP health check must start with '/'",
    );
    expect(parseHealthCheck({ type: 'TCP' })).toBe("Expecting 'tcp' to be set for TCP health check");
    expect(parseHealthCheck({ type: 'UNKNOWN' })).toBe("'UNKNOWN' is not a valid health check type");
    expect(parseHealthCheck({ type: 'TCP', tcp: { port: 1 }, interval_seconds: -1 })).toBe(
      "Expecting 'interval_seconds' to be non-negative",
    );
  });
});

describe('HealthChecker', () => {
  it('reports the first success once, stays quiet while healthy, and reports the recovery after failures', async () => {
    const { clock, results } = run(spec(), [true, true, false, true, true]);
    await clock.advanceAsync(4_500);
    expect(results).toEqual([
      { healthy: true, consecutiveFailures: 0, killTask: false, at: 0 },
      { healthy: false, consecutiveFailures: 1, killTask: false, at: 2000 },
      { healthy: true, consecutiveFailures: 0, killTask: false, at: 3000 },
    ]);
  });

  it('waits delay_seconds for the first probe and interval_seconds after each result', async () => {
    const { clock, probes } = run(spec({ delayMs: 5000 }), [true]);
    await clock.advanceAsync(4999);
    expect(probes()).toBe(0);
    await clock.advanceAsync(1);
    expect(probes()).toBe(1);
    await clock.advanceAsync(2000);
    expect(probes()).toBe(3);
  });

  it('ignores failures during the grace period, then reports each one and asks for a kill at consecutive_failures', async () => {
    const { clock, results, checker } = run(spec({ gracePeriodMs: 2500 }), [false]);
    await clock.advanceAsync(10_000);
    expect(results).toEqual([
      { healthy: false, consecutiveFailures: 1, killTask: false, at: 3000 },
      { healthy: false, consecutiveFailures: 2, killTask: false, at: 4000 },
      { healthy: false, consecutiveFailures: 3, killTask: true, at: 5000 },
    ]);
    expect(checker.stopped).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('stops applying the grace period after the first success', async () => {
    const { clock, results } = run(spec({ gracePeriodMs: 60_000, consecutiveFailures: 2 }), [true, false]);
    await clock.advanceAsync(2000);
    expect(results.map((r) => [r.healthy, r.killTask])).toEqual([
      [true, false],
      [false, false],
      [false, true],
    ]);
  });

  it('counts a probe slower than timeout_seconds as a failure', async () => {
    const { clock, results } = run(spec({ timeoutMs: 300, consecutiveFailures: 1 }), ['hang']);
    await clock.advanceAsync(299);
    expect(results).toEqual([]);
    await clock.advanceAsync(1);
    expect(results).toEqual([{ healthy: false, consecutiveFailures: 1, killTask: true, at: 300 }]);
  });

  it('reports nothing and leaves no timer after stop()', async () => {
    const { clock, results, checker } = run(spec({ delayMs: 100 }), [true]);
    checker.stop();
    await clock.advanceAsync(5000);
    expect(results).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('asks for a kill exactly when a run of failures reaches consecutive_failures (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 5 }),
        async (answers, limit) => {
          const { clock, results } = run(spec({ consecutiveFailures: limit }), [...answers, true]);
          await clock.advanceAsync(answers.length * 1000 - 1);
          // Model: the same executor rules, step by step.
          const expected: [boolean, boolean][] = [];
          let first = true;
          let failures = 0;
          for (const ok of answers) {
            if (ok) {
              if (first || failures > 0) expected.push([true, false]);
              first = false;
              failures = 0;
            } else {
              failures++;
              expected.push([false, failures >= limit]);
              if (failures >= limit) break;
            }
          }
          expect(results.map((r) => [r.healthy, r.killTask])).toEqual(expected);
        },
      ),
      { numRuns: 100 },
    );
  });
});
