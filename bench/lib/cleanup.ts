/**
 * Cleanup that runs even when a workload throws or the run is interrupted (Ctrl-C): every resource the
 * bench creates (databases, Redis keys, servers) registers its release here, in a try/finally.
 */
type Task = { label: string; run: () => Promise<unknown> };
const tasks: Task[] = [];

/** Registers a release; returns a function that runs it now (once) and unregisters it. */
export function onCleanup(label: string, run: () => Promise<unknown>): () => Promise<void> {
  const task: Task = { label, run };
  tasks.push(task);
  return async () => {
    const i = tasks.indexOf(task);
    if (i < 0) return;
    tasks.splice(i, 1);
    await task.run();
  };
}

/** Runs every pending release, newest first; logs failures and goes on. */
export async function runCleanups(): Promise<void> {
  while (tasks.length) {
    const task = tasks.pop()!;
    try {
      await task.run();
    } catch (err) {
      console.error(`cleanup "${task.label}" failed: ${(err as Error).message}`);
    }
  }
}

let installed = false;
/** On SIGINT/SIGTERM: release everything, then exit (a second signal exits at once). */
export function cleanupOnSignals(): void {
  if (installed) return;
  installed = true;
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    console.error(`\n${signal}: cleaning up before exit...`);
    const force = setTimeout(() => process.exit(130), 30_000);
    force.unref();
    void runCleanups().finally(() => process.exit(130));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
