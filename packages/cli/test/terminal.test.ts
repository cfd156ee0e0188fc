import { describe, expect, it } from 'vitest';
import { harness, ONE_TASK } from './cli-harness.ts';

const ESC = String.fromCharCode(27);

describe('terminal behaviour', () => {
  it('colours states on a terminal, and never with NO_COLOR or --no-color', async () => {
    await using h = await harness();
    await h.run(['run', '-f', await h.file('t.yaml', ONE_TASK), '--wait']);
    const tty = await h.run(['get', 'tasks'], { stdoutIsTTY: true });
    expect(tty.out).toContain(`${ESC}[32mRUNNING${ESC}[39m`);
    const noColor = await h.run(['get', 'tasks'], {
      stdoutIsTTY: true,
      env: { BERTH_CONFIG: h.configFile, NO_COLOR: '1' },
    });
    expect(noColor.out).not.toContain(ESC);
    expect((await h.run(['--no-color', 'get', 'tasks'], { stdoutIsTTY: true })).out).not.toContain(ESC);
    expect((await h.run(['get', 'tasks'])).out).not.toContain(ESC);
  });

  it('draws the --wait spinner on stderr only when stderr is a terminal', async () => {
    await using h = await harness();
    const spec = await h.file('t.yaml', ONE_TASK);
    const piped = await h.run(['run', '-f', spec, '--wait']);
    expect(piped.err).toBe('');
    const tty = await h.run(['run', '-f', spec, '--wait'], { stderrIsTTY: true });
    expect(tty.err).toMatch(/⠋ waiting for 1 task\(s\) to run/);
    expect(tty.out).not.toMatch(/⠋/);
  });

  it('fits tables to the terminal width, truncating long cells with …', async () => {
    await using h = await harness();
    const failing = ONE_TASK.replace(
      'echo hello; echo oops >&2; sleep 3600',
      'echo this-line-is-a-rather-long-explanation-of-what-went-wrong >&2; exit 3',
    );
    await h.run(['run', '-f', await h.file('t.yaml', failing), '--wait']);
    const full = await h.run(['get', 'tasks', '-o', 'wide'], { columns: 500 });
    expect(full.out).toContain('this-line-is-a-rather-long-explanation-of-what-went-wrong');
    const r = await h.run(['get', 'tasks', '-o', 'wide'], { columns: 110 });
    for (const line of r.out.trimEnd().split('\n')) expect([...line].length).toBeLessThanOrEqual(110);
    expect(r.out).toMatch(/command exited with status 3: \S*…\n$/);
  });
});
