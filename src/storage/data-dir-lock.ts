import { lock } from 'proper-lockfile';

/** The embedded database is one process's: a second one writing the same files would corrupt them. */
export class DataDirInUse extends Error {
  override readonly name = 'DataDirInUse';
  constructor(readonly dir: string) {
    super(`${dir} is in use by another process (a running server?): the embedded database serves one process at a time`);
  }
}

/**
 * Takes `dir` for this process until the returned function is called. A lock left by a process that
 * died goes stale within seconds (its holder refreshes it), so a restart waits a little instead of failing.
 */
export async function lockDataDir(dir: string, onLost: (err: Error) => void): Promise<() => Promise<void>> {
  try {
    return await lock(dir, {
      lockfilePath: `${dir}.lock`,
      stale: 10_000,
      update: 2_500,
      retries: { retries: 14, minTimeout: 1_000, maxTimeout: 1_000 },
      realpath: false,
      // Default: throw from a timer (a crash). A laptop waking from sleep finds its lock refreshed late; say so instead.
      onCompromised: onLost,
    });
  } catch (err) {
    if ((err as { code?: string }).code === 'ELOCKED') throw new DataDirInUse(dir);
    throw err;
  }
}
