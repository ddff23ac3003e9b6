/** Leases of periodic jobs (sm_lease): one row per job. */
import { statement } from '../statement.js';

/**
 * Takes the job's lease when it is free or lapsed, or renews it for its holder; a row back means
 * `:holder` holds it now. Concurrent callers queue on the row, and each judges the version before it.
 */
export const ACQUIRE_LEASE = statement<{ job: string; holder: string; ttlMs: number }, { holder: string }>(`
insert into sm_lease (job, holder, expires_at)
values (:job, :holder, now() + make_interval(secs => :ttlMs::float8 / 1000))
on conflict (job) do update set holder = excluded.holder, expires_at = excluded.expires_at
where sm_lease.expires_at < now() or sm_lease.holder = excluded.holder
returning holder`);

export const RELEASE_LEASE = statement<{ job: string; holder: string }>(`
delete from sm_lease where job = :job and holder = :holder`);
