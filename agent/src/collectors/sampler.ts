import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type HostSample, HostSampleSchema } from "@ocore/proto/gen/ocore/agent/v1/metrics_pb.js";
import type { CpuCollector } from "./cpu-collector.js";
import type { DiskIoCollector } from "./disk-io-collector.js";
import type { DockerCollector } from "./docker-collector.js";
import type { FilesystemCollector } from "./filesystem-collector.js";
import type { MemoryCollector } from "./memory-collector.js";
import type { NetworkCollector } from "./network-collector.js";
import type { SequenceCounter } from "./sequence-counter.js";
import type { TcpConnectionCollector } from "./tcp-connection-collector.js";

export interface SamplerCollectors {
  readonly cpu: CpuCollector;
  readonly memory: MemoryCollector;
  readonly filesystems: FilesystemCollector;
  readonly diskIo: DiskIoCollector;
  readonly network: NetworkCollector;
  readonly tcpConnections: TcpConnectionCollector;
  /** Absent when Docker collection is turned off. */
  readonly docker?: DockerCollector;
}

export interface Sampler {
  /** Takes the first readings so the first sample's rates cover a real interval, not uptime. */
  prime(): Promise<void>;
  /** Collects everything, concurrently, into one numbered sample. */
  sample(): Promise<HostSample>;
}

export function createSampler(options: {
  collectors: SamplerCollectors;
  sequences: SequenceCounter;
  wallClock?: () => number;
}): Sampler {
  const { collectors } = options;
  const wallClock = options.wallClock ?? Date.now;
  const readAll = () =>
    Promise.all([
      collectors.cpu.collect(),
      collectors.memory.collect(),
      collectors.filesystems.collect(),
      collectors.diskIo.collect(),
      collectors.network.collect(),
      collectors.tcpConnections.collect(),
      collectors.docker?.collect(),
    ]);
  return {
    async prime() {
      await readAll();
    },
    async sample() {
      const collectedAt = wallClock();
      const [cpu, memory, filesystems, blockDevices, networkInterfaces, tcpConnections, docker] =
        await readAll();
      return create(HostSampleSchema, {
        sequence: await options.sequences.next(),
        collectedAt: timestampFromMs(collectedAt),
        cpu,
        memory,
        filesystems,
        blockDevices,
        networkInterfaces,
        tcpConnections,
        docker,
      });
    },
  };
}
