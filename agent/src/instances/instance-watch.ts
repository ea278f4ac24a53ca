import type { MessageInitShape } from "@bufbuild/protobuf";
import type { InstanceStatesSchema } from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import { type Clock, sleep, systemClock } from "../connection/clock.js";
import type { EngineClient } from "../docker/engine-client.js";
import type { Logger } from "../logging/logger.js";
import { followInstanceEvents } from "./instance-events.js";
import { inspectInstances, listInstances } from "./instance-inspection.js";

export type InstanceStatesInit = MessageInitShape<typeof InstanceStatesSchema>;

/** The live stream, as the watch writes to it (the session builds one per Welcome). */
export interface InstanceStatesWriter {
  /** false: the stream's buffer is full; wait for drained() before writing more. */
  write(states: InstanceStatesInit): boolean;
  drained(): Promise<void>;
}

export interface InstanceWatch {
  /** A stream is live: a full snapshot goes out first, then changes. */
  attach(writer: InstanceStatesWriter): void;
  /** That stream ended; changes wait (coalesced) for the next one. */
  detach(writer: InstanceStatesWriter): void;
  start(): void;
  stop(): Promise<void>;
}

export interface InstanceWatchOptions {
  /** Plain Engine API calls (not dockerode: the watch runs in the idle agent). */
  readonly engine: EngineClient;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** At most one message of changes this often (a crash-looping container cannot flood the stream). */
  readonly minGapMs?: number;
  /** Instances per message; a larger snapshot is split. */
  readonly maxPerMessage?: number;
  /** Waits between attempts to reach Docker's event stream (doubling up to the second). */
  readonly retryMs?: readonly [first: number, max: number];
}

/**
 * Follows Docker's events for oCore's containers (label `ocore.instance`) and pushes the states of
 * the instances they belong to. Events only say which instance to look at again: the instance is
 * then inspected, so a message always carries what Docker reports now (exit code, OOM, error),
 * whatever order events came in. Changes are coalesced per instance and sent at most once per
 * `minGapMs`. The event stream is subscribed to before listing, and a full snapshot follows every
 * (re)connection — to Docker and to the server — so a missed event cannot leave a stale state.
 */
export function createInstanceWatch(options: InstanceWatchOptions): InstanceWatch {
  const { engine, logger } = options;
  const clock = options.clock ?? systemClock;
  const minGapMs = options.minGapMs ?? 1_000;
  const maxPerMessage = options.maxPerMessage ?? 200;
  const [firstRetryMs, maxRetryMs] = options.retryMs ?? [1_000, 30_000];
  const halt = new AbortController();
  let writer: InstanceStatesWriter | undefined;
  let dockerUp = false;
  let needSnapshot = true;
  let dirty = new Set<string>();
  let wake: (() => void) | undefined;
  let lastFlushAt = Number.NEGATIVE_INFINITY;
  let loops: Promise<unknown> | undefined;
  /** The last failure logged; cleared (and said so) once Docker's events flow again. */
  let reported = "";

  const poke = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const pause = (ms: number) => sleep(clock, ms, halt.signal);

  const events = {
    subscribed() {
      dockerUp = true;
      needSnapshot = true; // events may have been missed while not subscribed
      poke();
      if (reported) logger.info("following Docker's events again; sending a fresh snapshot of the instances");
      reported = "";
    },
    touched(instanceId: string) {
      dirty.add(instanceId);
      poke();
    },
    unreadable() {
      needSnapshot = true; // look at everything again
      poke();
    },
  };

  async function eventLoop(): Promise<void> {
    let retryMs = firstRetryMs;
    while (!halt.signal.aborted) {
      let why: string;
      try {
        await followInstanceEvents(engine, halt.signal, events);
        why = "Docker ended its event stream (dockerd restarted?)";
        retryMs = firstRetryMs;
      } catch (error) {
        why = `Docker's event stream is unreachable on ${engine.socketPath}: ${(error as Error).message}`;
      }
      dockerUp = false;
      if (halt.signal.aborted) return;
      // Once per kind of failure, not on every retry.
      if (why !== reported)
        logger.warn({ retryMs }, `${why}; instance states are not followed until it is back`);
      reported = why;
      await pause(retryMs);
      retryMs = Math.min(retryMs * 2, maxRetryMs);
    }
  }

  /** Writes one message, waiting while the stream is full; false when no stream took it. */
  async function send(states: InstanceStatesInit): Promise<boolean> {
    const current = writer;
    if (!current) return false;
    if (!current.write(states)) await current.drained();
    return true;
  }

  async function flush(): Promise<void> {
    const snapshot = needSnapshot;
    const batch = dirty;
    needSnapshot = false;
    dirty = new Set();
    try {
      // Every oCore container in one list call; only the wanted instances are inspected.
      const containers = await listInstances(engine, halt.signal);
      const ids = snapshot ? [...containers.keys()] : [...batch];
      const statuses = await inspectInstances(engine, halt.signal, containers, ids);
      for (let start = 0; start < statuses.length || (snapshot && start === 0); start += maxPerMessage) {
        const last = start + maxPerMessage >= statuses.length;
        const sent = await send({
          instances: statuses.slice(start, start + maxPerMessage),
          snapshotEnd: snapshot && last ? { instanceIds: [...containers.keys()] } : undefined,
        });
        if (!sent) throw new Error("the stream ended before the states went out");
      }
    } catch (error) {
      // Try again on the next connection (to Docker or the server): nothing is lost meanwhile.
      if (snapshot) needSnapshot = true;
      for (const id of batch) dirty.add(id);
      if (!halt.signal.aborted && writer && dockerUp) {
        logger.debug({ err: error }, "instance states not sent; retrying");
        await pause(minGapMs);
      }
    }
  }

  async function flushLoop(): Promise<void> {
    while (!halt.signal.aborted) {
      if (!writer || !dockerUp || (!needSnapshot && dirty.size === 0)) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      const gap = lastFlushAt + minGapMs - clock.now();
      if (gap > 0) {
        await pause(gap);
        continue;
      }
      lastFlushAt = clock.now();
      await flush();
    }
  }

  return {
    attach(next) {
      writer = next;
      needSnapshot = true;
      poke();
    },
    detach(previous) {
      if (writer === previous) writer = undefined;
    },
    start() {
      if (loops) throw new Error("the instance watch is already started");
      loops = Promise.all([eventLoop(), flushLoop()]);
    },
    async stop() {
      halt.abort();
      poke();
      await loops;
    },
  };
}
