/**
 * Failed logins per source address, in a sliding window. Per-account lockout lives in the database
 * (shared by replicas); this per-process limit stops one address from guessing many accounts.
 */
export interface LoginLimiter {
  /** Milliseconds until the source may try again, or 0. */
  retryAfterMs(source: string, now: number): number;
  recordFailure(source: string, now: number): void;
}

export function createLoginLimiter(
  maxFailures = 20,
  windowMs = 10 * 60_000,
  maxSources = 100_000,
): LoginLimiter {
  const failures = new Map<string, number[]>();
  const recent = (source: string, now: number) =>
    (failures.get(source) ?? []).filter((at) => now - at < windowMs);
  return {
    retryAfterMs(source, now) {
      const times = recent(source, now);
      if (times.length < maxFailures) return 0;
      return windowMs - (now - (times[times.length - maxFailures] ?? now));
    },
    recordFailure(source, now) {
      const times = recent(source, now);
      times.push(now);
      failures.delete(source);
      failures.set(source, times.slice(-maxFailures));
      // Bounded memory: forget the least recently failing sources first.
      while (failures.size > maxSources) failures.delete(failures.keys().next().value as string);
    },
  };
}
