import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBerthError, parseDocuments } from '@berth/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_EXAMPLES_DIR,
  EXAMPLE_FILES,
  expandToTasks,
  startQuickstart,
} from '../../src/quickstart/quickstart.ts';

const example = (file: string) =>
  parseDocuments(readFileSync(join(DEFAULT_EXAMPLES_DIR, file), 'utf8'), { source: file });

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('the quick start examples', () => {
  it('are a 3-replica web Service, a gang Job and a task no laptop node can take', () => {
    expect(EXAMPLE_FILES.map((f) => example(f).map((d) => `${d.kind}/${d.metadata.name}`))).toEqual([
      ['Service/web'],
      ['Job/crunch'],
      ['Task/too-big'],
    ]);
    const [web] = example('web.yaml');
    const [job] = example('batch-gang.yaml');
    expect(web?.kind === 'Service' && web.spec.replicas).toBe(3);
    expect(job?.kind === 'Job' && job.spec.gang).toBe(true);
  });
});

describe('expandToTasks', () => {
  it('turns a Service into one Task per replica, labelled with the service', () => {
    const [web] = example('web.yaml');
    const tasks = expandToTasks(web!);
    expect(tasks.map((t) => `${t.kind}/${t.metadata.name}`)).toEqual([
      'Task/web-0',
      'Task/web-1',
      'Task/web-2',
    ]);
    const first = tasks[0]!;
    expect(first.kind === 'Task' && first.spec.name).toBe('web-0');
    expect(first.kind === 'Task' && first.spec.command).toContain('createServer');
    expect(first.metadata.labels).toMatchObject({ app: 'web', 'berth.dev/service': 'web' });
  });

  it('turns a Job into its parallel workers and keeps a Task as it is', () => {
    const [job] = example('batch-gang.yaml');
    expect(expandToTasks(job!).map((t) => t.metadata.name)).toEqual(['crunch-0', 'crunch-1', 'crunch-2']);
    const [task] = example('too-big.yaml');
    expect(expandToTasks(task!)).toEqual([task]);
  });
});

describe('startQuickstart', () => {
  it('refuses a non-empty state directory it did not make, before starting anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-quickstart-foreign-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const error = await startQuickstart({ stateDir: dir, mesosPort: 0, kubePort: 0 }).catch(
      (e: unknown) => e,
    );
    expect(isBerthError(error, 'SPEC_INVALID')).toBe(true);
    expect((error as Error).message).toContain('--state-dir');
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    expect(existsSync(join(dir, 'devcluster'))).toBe(false);
  });
});
