import { sql } from "drizzle-orm";
import type { DatabaseKind, Db } from "../../platform/db/database.js";
import { rowsOf } from "../../platform/db/rows-of.js";

export interface SystemInfo {
  readonly version: string;
  readonly startedAt: Date;
  readonly uptimeMs: number;
  readonly databaseKind: DatabaseKind;
  readonly databaseVersion: string;
  readonly installationId: string;
  readonly nodeVersion: string;
  readonly sshGateway?: SshGatewayInfo;
}

/** What users need to trust the SSH gateway (absent when it is off). */
export interface SshGatewayInfo {
  readonly listenAddress: string;
  readonly hostKeyFingerprint: string;
  readonly hostPublicKey: string;
  readonly knownHostsLine: string;
}

export interface SystemInfoSource {
  readonly db: Db;
  readonly databaseKind: DatabaseKind;
  readonly version: string;
  readonly startedAt: Date;
  readonly installationId: string;
  readonly now: () => Date;
  readonly sshGateway?: SshGatewayInfo;
}

/** Describes the running control server; asks the database for its version each time. */
export async function getSystemInfo(source: SystemInfoSource): Promise<SystemInfo> {
  const result = await source.db.execute(sql`select version() as version`);
  const full = rowsOf<{ version: string }>(result)[0]?.version ?? "unknown";
  return {
    version: source.version,
    startedAt: source.startedAt,
    uptimeMs: Math.max(0, source.now().getTime() - source.startedAt.getTime()),
    databaseKind: source.databaseKind,
    databaseVersion: shortDatabaseVersion(full),
    installationId: source.installationId,
    nodeVersion: process.version,
    sshGateway: source.sshGateway,
  };
}

/** "PostgreSQL 15.13 (Debian 15.13-0+deb12u1) on x86_64-pc-linux-gnu, …" → "PostgreSQL 15.13". */
export function shortDatabaseVersion(full: string): string {
  const match = /^PostgreSQL \S+/.exec(full);
  return match ? match[0] : full;
}
