import {
  type MetricSampleInput,
  newestUsage,
  type UsageSummary,
} from "../../domain/metrics/metric-sample.js";

/**
 * The newest CPU/memory/disk usage per server received since the presence sweep last wrote it
 * onto the server's row (the fleet list sorts by it). One entry per live stream at most.
 */
export interface PendingUsage {
  /** Samples of `serverId` were stored: remember their newest usage. */
  note(serverId: string, samples: readonly MetricSampleInput[]): void;
  /** Takes (and forgets) the usage waiting for `serverId`. */
  take(serverId: string): UsageSummary | undefined;
  has(serverId: string): boolean;
  /** Forgets servers whose stream closed before a sweep wrote their usage. */
  keepOnly(isLive: (serverId: string) => boolean): void;
}

export function createPendingUsage(): PendingUsage {
  const pending = new Map<string, UsageSummary>();
  return {
    note(serverId, samples) {
      const usage = newestUsage(samples);
      const known = pending.get(serverId);
      if (usage && (!known || usage.collectedAt >= known.collectedAt)) pending.set(serverId, usage);
    },
    take(serverId) {
      const usage = pending.get(serverId);
      pending.delete(serverId);
      return usage;
    },
    has: (serverId) => pending.has(serverId),
    keepOnly(isLive) {
      for (const serverId of pending.keys()) if (!isLive(serverId)) pending.delete(serverId);
    },
  };
}
