import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Hello } from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import type { HostSample, MetricBatch } from "@ocore/proto/gen/ocore/agent/v1/metrics_pb.js";
import type { HostFacts } from "@ocore/proto/host-facts.js";
import type { MetricSampleInput } from "../../domain/metrics/metric-sample.js";
import { AppError } from "../../platform/errors/app-error.js";

/** Limits on what one message may carry; beyond them the stream is closed as invalid. */
export const LIMITS = {
  samplesPerBatch: 1000,
  cores: 1024,
  filesystems: 128,
  blockDevices: 256,
  networkInterfaces: 256,
  containers: 2000,
  text: 256,
} as const;
const FUTURE_SKEW_MS = 10 * 60_000;
const EPOCH_2020 = Date.UTC(2020, 0, 1);

export interface HelloFacts {
  readonly agentVersion: string;
  readonly hostname: string;
  readonly host: HostFacts;
}

function invalid(path: string, problem: string): never {
  throw AppError.invalid(path, problem);
}

function text(path: string, value: string, required = false): string {
  if (required && value === "") invalid(path, "is required");
  if (value.length > LIMITS.text) invalid(path, `is longer than ${LIMITS.text} characters`);
  return value;
}

function count(path: string, value: bigint | number, max = Number.MAX_SAFE_INTEGER): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 0 || number > max) invalid(path, `must be 0..${max}`);
  return number;
}

function rate(path: string, value: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isFinite(value) || value < 0 || value > max) invalid(path, `must be a number in 0..${max}`);
  return value;
}

function list<T>(path: string, values: readonly T[], max: number): readonly T[] {
  if (values.length > max) invalid(path, `has more than ${max} entries`);
  return values;
}

export function validateHello(hello: Hello): HelloFacts {
  text("hello.hostname", hello.hostname);
  for (const field of ["osId", "osVersion", "kernel", "architecture"] as const)
    text(`hello.${field}`, hello[field]);
  count("hello.cpu_cores", hello.cpuCores, 65_536);
  const bootedAt = hello.bootedAt ? timestampDate(hello.bootedAt) : undefined;
  return {
    agentVersion: text("hello.agent_version", hello.agentVersion, true),
    hostname: hello.hostname,
    host: {
      hostname: hello.hostname,
      osId: hello.osId,
      osVersion: hello.osVersion,
      kernel: hello.kernel,
      architecture: hello.architecture,
      cpuCores: hello.cpuCores,
      memoryTotalBytes: Number(hello.memoryTotalBytes),
      bootedAt: bootedAt && !Number.isNaN(bootedAt.getTime()) ? bootedAt.toISOString() : null,
    },
  };
}

/** Checks every sample of a batch before any is stored: a batch is taken whole or not at all. */
export function validateMetricBatch(batch: MetricBatch, now: Date): MetricSampleInput[] {
  if (batch.samples.length === 0) invalid("metric_batch.samples", "is empty");
  list("metric_batch.samples", batch.samples, LIMITS.samplesPerBatch);
  const seen = new Set<number>();
  return batch.samples.map((sample, index) => {
    const converted = validateSample(`metric_batch.samples[${index}]`, sample, now);
    if (seen.has(converted.sequence))
      invalid(`metric_batch.samples[${index}].sequence`, "is repeated in the batch");
    seen.add(converted.sequence);
    return converted;
  });
}

function validateSample(path: string, sample: HostSample, now: Date): MetricSampleInput {
  const sequence = count(`${path}.sequence`, sample.sequence);
  if (sequence === 0) invalid(`${path}.sequence`, "must start at 1");
  if (!sample.collectedAt) invalid(`${path}.collected_at`, "is required");
  const collectedAt = timestampDate(sample.collectedAt);
  if (collectedAt.getTime() < EPOCH_2020 || collectedAt.getTime() > now.getTime() + FUTURE_SKEW_MS) {
    invalid(`${path}.collected_at`, "is not a plausible time (is the host's clock right?)");
  }
  const cpu = sample.cpu ?? invalid(`${path}.cpu`, "is required");
  const memory = sample.memory ?? invalid(`${path}.memory`, "is required");
  const percent = (p: string, v: number) => rate(p, v, 100.5);
  return {
    sequence,
    collectedAt,
    cpu: {
      usagePercent: percent(`${path}.cpu.usage_percent`, cpu.usagePercent),
      perCorePercent: list(`${path}.cpu.per_core_percent`, cpu.perCorePercent, LIMITS.cores).map((v, i) =>
        percent(`${path}.cpu.per_core_percent[${i}]`, v),
      ),
      load1: rate(`${path}.cpu.load1`, cpu.load1, 1e6),
      load5: rate(`${path}.cpu.load5`, cpu.load5, 1e6),
      load15: rate(`${path}.cpu.load15`, cpu.load15, 1e6),
      cores: count(`${path}.cpu.cores`, cpu.cores, 65_536),
    },
    memory: {
      totalBytes: count(`${path}.memory.total_bytes`, memory.totalBytes),
      usedBytes: count(`${path}.memory.used_bytes`, memory.usedBytes),
      availableBytes: count(`${path}.memory.available_bytes`, memory.availableBytes),
      activeBytes: count(`${path}.memory.active_bytes`, memory.activeBytes),
      swapTotalBytes: count(`${path}.memory.swap_total_bytes`, memory.swapTotalBytes),
      swapUsedBytes: count(`${path}.memory.swap_used_bytes`, memory.swapUsedBytes),
    },
    filesystems: list(`${path}.filesystems`, sample.filesystems, LIMITS.filesystems).map((f, i) => {
      const p = `${path}.filesystems[${i}]`;
      return {
        mount: text(`${p}.mount`, f.mount, true),
        device: text(`${p}.device`, f.device),
        fsType: text(`${p}.fs_type`, f.fsType),
        totalBytes: count(`${p}.total_bytes`, f.totalBytes),
        usedBytes: count(`${p}.used_bytes`, f.usedBytes),
        availableBytes: count(`${p}.available_bytes`, f.availableBytes),
      };
    }),
    blockDevices: list(`${path}.block_devices`, sample.blockDevices, LIMITS.blockDevices).map((d, i) => {
      const p = `${path}.block_devices[${i}]`;
      return {
        device: text(`${p}.device`, d.device, true),
        readBytesPerSecond: rate(`${p}.read_bytes_per_second`, d.readBytesPerSecond),
        writeBytesPerSecond: rate(`${p}.write_bytes_per_second`, d.writeBytesPerSecond),
        readsPerSecond: rate(`${p}.reads_per_second`, d.readsPerSecond),
        writesPerSecond: rate(`${p}.writes_per_second`, d.writesPerSecond),
      };
    }),
    networkInterfaces: list(
      `${path}.network_interfaces`,
      sample.networkInterfaces,
      LIMITS.networkInterfaces,
    ).map((n, i) => ({
      name: text(`${path}.network_interfaces[${i}].name`, n.name, true),
      rxBytesPerSecond: rate(`${path}.network_interfaces[${i}].rx_bytes_per_second`, n.rxBytesPerSecond),
      txBytesPerSecond: rate(`${path}.network_interfaces[${i}].tx_bytes_per_second`, n.txBytesPerSecond),
    })),
    tcpConnections: count(`${path}.tcp_connections`, sample.tcpConnections),
    docker: sample.docker && {
      running: count(`${path}.docker.running`, sample.docker.running),
      paused: count(`${path}.docker.paused`, sample.docker.paused),
      stopped: count(`${path}.docker.stopped`, sample.docker.stopped),
      restarting: count(`${path}.docker.restarting`, sample.docker.restarting),
      containers: list(`${path}.docker.containers`, sample.docker.containers, LIMITS.containers).map(
        (c, i) => {
          const p = `${path}.docker.containers[${i}]`;
          return {
            id: text(`${p}.id`, c.id, true),
            name: text(`${p}.name`, c.name),
            state: text(`${p}.state`, c.state),
            cpuPercent: rate(`${p}.cpu_percent`, c.cpuPercent, 100 * 65_536),
            memoryBytes: count(`${p}.memory_bytes`, c.memoryBytes),
            memoryLimitBytes: count(`${p}.memory_limit_bytes`, c.memoryLimitBytes),
          };
        },
      ),
    },
  };
}
