import os from "node:os";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { HelloSchema } from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import { createHostChecks, type HostChecksOptions } from "../checks/host-checks.js";
import { createCpuCollector } from "../collectors/cpu-collector.js";
import { createDiskIoCollector } from "../collectors/disk-io-collector.js";
import { createDockerCollector, createDockerEngine } from "../collectors/docker-collector.js";
import { createFilesystemCollector } from "../collectors/filesystem-collector.js";
import { readHostFacts } from "../collectors/host-facts.js";
import { createMemoryCollector } from "../collectors/memory-collector.js";
import { createNetworkCollector } from "../collectors/network-collector.js";
import { createSampler } from "../collectors/sampler.js";
import { openSequenceCounter } from "../collectors/sequence-counter.js";
import { createTcpConnectionCollector } from "../collectors/tcp-connection-collector.js";
import { type CommandExecutor, createCommandExecutor } from "../commands/command-executor.js";
import type { CommandHandler } from "../commands/command-handler.js";
import { createCommandOutbox } from "../commands/command-outbox.js";
import { openRecentCommands } from "../commands/recent-commands.js";
import { createCommandHandlerLoaders } from "../commands/registry.js";
import type { AgentConfig } from "../config/config.js";
import { type AgentLink, createAgentLink } from "../connection/agent-link.js";
import { createBackoff } from "../connection/backoff.js";
import { type Clock, systemClock } from "../connection/clock.js";
import { createGrpcDialer } from "../connection/grpc-dialer.js";
import { parseServerAddress } from "../connection/server-address.js";
import { createEngineClient } from "../docker/engine-client.js";
import { createCertificateRenewal } from "../identity/certificate-renewal.js";
import { createIdentityStore, NotEnrolledError } from "../identity/identity-store.js";
import { createInstanceWatch } from "../instances/instance-watch.js";
import { componentLogger, type Logger } from "../logging/logger.js";
import { openSpool, type Spool } from "../spool/spool.js";
import { createSshTunnels } from "../ssh-tunnel/ssh-tunnel.js";
import { createSamplingLoop, type SamplingLoop } from "./sampling-loop.js";

export interface RunningAgent {
  readonly link: AgentLink;
  readonly spool: Spool;
  readonly sampling: SamplingLoop;
  readonly commands: CommandExecutor;
  /** Stops sampling (the sample in progress reaches the spool), ends the stream, closes the spool. */
  stop(): Promise<void>;
}

/** Assembles and starts `ocore-agent run`: collectors → sampler → spool ← link → server. */
export async function startAgent(options: {
  config: AgentConfig;
  logger: Logger;
  agentVersion: string;
  clock?: Clock;
  /** Test hooks: fixture roots and link tuning. */
  procRoot?: string;
  link?: Partial<Parameters<typeof createAgentLink>[0]>;
  /** The command handlers (the production registry unless a test brings its own). */
  handlers?: readonly CommandHandler[];
  /** Test hooks: the host checks' cycle and how often the container start check runs. */
  checks?: Pick<HostChecksOptions, "intervalMs" | "startCheckEveryMs" | "firstStartCheckAfterMs">;
}): Promise<RunningAgent> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  const store = createIdentityStore(config.stateDir);
  await store.load();
  const server = config.server ?? (await store.findState())?.server;
  if (!server)
    throw new NotEnrolledError(config.stateDir, "no server address in state.json or OCORE_AGENT_SERVER");
  const address = parseServerAddress(server);

  const spool = await openSpool({
    directory: path.join(config.stateDir, "spool"),
    maxBytes: config.spoolMaxBytes,
    onRecovery: (event) => logger.warn(event, "spool: cut off a torn or corrupt tail after a crash"),
  });
  const procRoot = options.procRoot;
  const sampler = createSampler({
    collectors: {
      cpu: createCpuCollector({ procRoot }),
      memory: createMemoryCollector({ procRoot }),
      filesystems: createFilesystemCollector({ procRoot }),
      diskIo: createDiskIoCollector({ procRoot }),
      network: createNetworkCollector({ procRoot }),
      tcpConnections: createTcpConnectionCollector({ procRoot }),
      docker: config.dockerSocket
        ? createDockerCollector({ engine: createDockerEngine(config.dockerSocket), logger })
        : undefined,
    },
    sequences: await openSequenceCounter(path.join(config.stateDir, "sequence"), spool.lastSequence),
    wallClock: clock.now,
  });
  await sampler.prime();
  const facts = await readHostFacts({ procRoot });

  const outbox = createCommandOutbox();
  const executor = createCommandExecutor({
    // Tests bring their own handlers; production ones load on the first command (registry.ts).
    handlers: options.handlers ?? [],
    loaders: options.handlers
      ? []
      : createCommandHandlerLoaders({
          config,
          dockerSocket: config.dockerSocket,
          procRoot,
          // Backup archives travel over the gateway with the agent's own certificate.
          transfer: async () =>
            (await import("../instances/backup-transfer.js")).createBackupTransferClient({
              address,
              identity: () => store.load(),
            }),
        }),
    recent: await openRecentCommands({ file: path.join(config.stateDir, "commands.json") }),
    outbox,
    logger: componentLogger(logger, "commands"),
  });

  // Docker's view of the instances, pushed to the server (none when Docker is switched off).
  const instanceWatch = config.dockerSocket
    ? createInstanceWatch({
        engine: createEngineClient(config.dockerSocket),
        logger: componentLogger(logger, "instance-watch"),
        clock,
      })
    : undefined;

  // Docker, sshd and inodes, judged from inside the host; results ride the stream.
  const hostChecks = createHostChecks({
    dockerSocket: config.dockerSocket,
    procRoot,
    logger: componentLogger(logger, "checks"),
    clock,
    intervalMs: config.checkIntervalMs,
    startCheckEveryMs: config.startCheckEveryMs,
    // The first start check waits one period (at most 10 minutes): a restart storm starts nothing.
    firstStartCheckAfterMs: Math.min(config.startCheckEveryMs, 600_000),
    ...options.checks,
  });

  let sampling: SamplingLoop | undefined;
  const link = createAgentLink({
    dialer: createGrpcDialer({ address, store }),
    spool,
    clock,
    logger: componentLogger(logger, "link", { server: address.text }),
    backoff: createBackoff({ capMs: config.reconnectMaxMs }),
    renewal: await createCertificateRenewal({ store, now: clock.now, commonName: os.hostname() }),
    hello: async () =>
      create(HelloSchema, {
        ...facts,
        memoryTotalBytes: BigInt(facts.memoryTotalBytes),
        bootedAt: facts.bootedAt ? timestampFromDate(new Date(facts.bootedAt)) : undefined,
        agentVersion: options.agentVersion,
        spooledSamples: BigInt(spool.size),
      }),
    onInterval: (seconds) => sampling?.setIntervalSeconds(seconds),
    ...options.link,
    session: {
      ...options.link?.session,
      commands: { executor, outbox },
      instanceStates: instanceWatch,
      hostChecks,
      sshTunnels: createSshTunnels({ logger: componentLogger(logger, "ssh-tunnel") }),
    },
  });
  sampling = createSamplingLoop({
    sampler,
    spool,
    clock,
    logger,
    intervalMs: config.metricsIntervalMs,
    onSample: () => link.notifySample(),
  });
  const loop = sampling;
  instanceWatch?.start();
  hostChecks.start();
  link.start();
  loop.start();
  logger.info({ server: address.text, spooled: spool.size, dropped: spool.droppedCount }, "agent running");

  return {
    link,
    spool,
    sampling: loop,
    commands: executor,
    async stop() {
      // Running commands end as cancelled; their ends go out if the stream is up (bounded wait).
      await Promise.race([executor.stop(), new Promise((resolve) => setTimeout(resolve, 3_000).unref())]);
      await loop.stop();
      await link.stop();
      await instanceWatch?.stop();
      await hostChecks.stop();
      await spool.close();
    },
  };
}
