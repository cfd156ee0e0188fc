/**
 * The backdoor the conformance suite uses to check what really reached the backend, not only what
 * the adapter reports. An adapter package implements it against its backend (devcluster, a fake
 * HTTP server, a recorded master) — never through the adapter under test.
 */
export interface BackendProbe {
  /** How many times the backend was asked to launch this task id (Mesos LAUNCH operations, pod creations). */
  launchCount(taskId: string): number | Promise<number>;
  /** Whether the backend has the task's process/container running right now. */
  isRunning(taskId: string): boolean | Promise<boolean>;
}
