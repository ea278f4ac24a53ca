import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { HostChecksSchema } from "@ocore/proto/gen/ocore/agent/v1/host_checks_pb.js";
import { type Clock, sleep, systemClock } from "../connection/clock.js";
import type { Logger } from "../logging/logger.js";
import type { CheckResult } from "./check-result.js";
import { checkContainerStart, checkDockerDaemon } from "./docker-checks.js";
import { checkInodes } from "./inode-check.js";
import { checkOdooInstances } from "./odoo-checks.js";
import { checkSshd } from "./sshd-check.js";

export type HostChecksInit = MessageInitShape<typeof HostChecksSchema>;

/** The live stream as the checks write to it (the session builds one per Welcome). */
export interface HostChecksWriter {
  write(checks: HostChecksInit): boolean;
  /** The server takes the Odoo instance checks (its Welcome says so); else they are left out. */
  readonly instanceChecks?: boolean;
}

const isInstanceCheck = (key: string | undefined) => key?.startsWith("odoo_") ?? false;

export interface HostChecks {
  /** A stream is live: the newest results go out at once, then every cycle. */
  attach(writer: HostChecksWriter): void;
  detach(writer: HostChecksWriter): void;
  start(): void;
  stop(): Promise<void>;
  /** Runs one cycle now and returns its results (tests; the loop calls it too). */
  runOnce(): Promise<CheckResult[]>;
}

export interface HostChecksOptions {
  /** The Docker socket; none: the Docker checks are not run. */
  readonly dockerSocket?: string;
  readonly procRoot?: string;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** The cheap checks' cycle (default 30 s). */
  readonly intervalMs?: number;
  /** How often the container start check runs (default 6 h, 0: never); its last result rides every cycle. */
  readonly startCheckEveryMs?: number;
  /** How often cron lag and the mail queue are read from each instance's database (default 5 min, 0: never). */
  readonly databaseCheckEveryMs?: number;
  /** Each HTTP probe of an instance's port is bounded by this (default 5 s). */
  readonly instanceTimeoutMs?: number;
  /** When it first runs after the agent starts (default 10 min: a restart storm starts nothing). */
  readonly firstStartCheckAfterMs?: number;
}

/**
 * The checks the agent runs from inside its host, every `intervalMs`: the Docker daemon's ping and
 * version, sshd running and listening, inodes per filesystem, the Odoo instances' containers, web
 * and real-time ports (odoo-checks.ts); and, every `startCheckEveryMs`, whether
 * Docker can start a container. Each cycle's results go to the live stream, if there is one (a
 * cycle without a stream is not kept: the next stream gets fresh results within one cycle).
 */
export function createHostChecks(options: HostChecksOptions): HostChecks {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  const intervalMs = options.intervalMs ?? 30_000;
  const startEveryMs = options.startCheckEveryMs ?? 6 * 3_600_000;
  const halt = new AbortController();
  let writer: HostChecksWriter | undefined;
  let latest: { at: number; results: readonly CheckResult[] } | undefined;
  let lastStart: { at: number; result: CheckResult } | undefined;
  let nextStartAt = clock.now() + (options.firstStartCheckAfterMs ?? 600_000);
  let loop: Promise<void> | undefined;
  const databaseEveryMs = options.databaseCheckEveryMs ?? 300_000;
  let nextDatabaseAt = clock.now();
  let lastDatabase: CheckResult[] = [];
  let failing = false;

  /** A cycle's message, without the instance checks for a server that does not take them. */
  const writeTo = (to: HostChecksWriter, cycle: { at: number; results: readonly CheckResult[] }) =>
    to.write({
      checkedAt: timestampFromMs(cycle.at),
      results: cycle.results
        .filter((result) => to.instanceChecks || !isInstanceCheck(result.key))
        .map((result) => ({ ...result })),
    });

  /**
   * The Odoo instances' checks (none when Docker cannot list them: its own check says why). Cron
   * lag and the mail queue (psql in each db container) run every `databaseCheckEveryMs`; between
   * runs their last results ride along for the instances whose Odoo still runs.
   */
  async function instanceChecks(socketPath: string): Promise<CheckResult[]> {
    try {
      // All instances when due, else only those not read yet (created since the last read).
      const due = databaseEveryMs > 0 && clock.now() >= nextDatabaseAt;
      const read = new Set(lastDatabase.map((result) => result.subject));
      const { results, skipped } = await checkOdooInstances(socketPath, {
        timeoutMs: options.instanceTimeoutMs,
        database: databaseEveryMs > 0 ? (subject) => due || !read.has(subject) : undefined,
      });
      if (skipped > 0 && !failing)
        logger.warn({ skipped }, "too many instances on this host; some are not checked");
      const isDatabase = (result: CheckResult) => result.key === "odoo_cron" || result.key === "odoo_mail";
      const fresh = results.filter(isDatabase);
      const freshSubjects = new Set(fresh.map((result) => result.subject));
      if (due) nextDatabaseAt = clock.now() + databaseEveryMs;
      lastDatabase = due
        ? fresh
        : [...lastDatabase.filter((result) => !freshSubjects.has(result.subject)), ...fresh];
      const running = new Set(
        results.filter((r) => r.key === "odoo_web" && r.state !== "unknown").map((r) => r.subject),
      );
      const others = results.filter((result) => !isDatabase(result));
      return [...others, ...lastDatabase.filter((result) => running.has(result.subject))];
    } catch (error) {
      if (!failing) logger.warn({ err: error }, "could not check the Odoo instances");
      return [];
    }
  }

  async function runOnce(): Promise<CheckResult[]> {
    const results: CheckResult[] = [];
    const [sshd, inodes] = await Promise.all([
      checkSshd(options.procRoot),
      checkInodes({ procRoot: options.procRoot }).catch((error: unknown) => {
        if (!failing) logger.warn({ err: error }, "could not read the filesystems' inodes");
        return [] as CheckResult[];
      }),
    ]);
    if (options.dockerSocket) {
      const docker = await checkDockerDaemon(options.dockerSocket);
      results.push(docker);
      if (docker.state === "ok" && startEveryMs > 0 && clock.now() >= nextStartAt) {
        lastStart = { at: clock.now(), result: await checkContainerStart(options.dockerSocket) };
        nextStartAt = clock.now() + startEveryMs;
        if (lastStart.result.state !== "ok")
          logger.warn({ check: lastStart.result }, "container start check failed");
      }
      if (lastStart) results.push(lastStart.result);
      if (docker.state === "ok") results.push(...(await instanceChecks(options.dockerSocket)));
    }
    results.push(sshd, ...inodes);
    latest = { at: clock.now(), results };
    if (writer) writeTo(writer, latest);
    return results;
  }

  return {
    attach(next) {
      writer = next;
      if (latest) writeTo(next, latest);
    },
    detach(old) {
      if (writer === old) writer = undefined;
    },
    start() {
      loop = (async () => {
        while (!halt.signal.aborted) {
          try {
            await runOnce();
            failing = false;
          } catch (error) {
            if (!failing) logger.error({ err: error }, "host checks failed; retrying every cycle");
            failing = true;
          }
          await sleep(clock, intervalMs, halt.signal);
        }
      })();
    },
    runOnce,
    async stop() {
      halt.abort();
      await loop;
    },
  };
}
