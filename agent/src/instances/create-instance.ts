import { create } from "@bufbuild/protobuf";
import {
  type DockerImagePull,
  DockerImagePullSchema,
} from "@ocore/proto/gen/ocore/agent/v1/docker_commands_pb.js";
import {
  type InstanceCreate,
  InstanceCreatedSchema,
  InstanceCreateSchema,
} from "@ocore/proto/gen/ocore/agent/v1/instance_commands_pb.js";
import type Docker from "dockerode";
import { pack } from "tar-stream";
import { type CommandContext, CommandError, defineHandler } from "../commands/command-handler.js";
import type { DockerDeps } from "../docker/docker-deps.js";
import { engineCall, engineMessage, toCommandError } from "../docker/docker-errors.js";
import { checkEnv, checkImageRef } from "../docker/docker-validation.js";
import { imageHandlers } from "../docker/image-handlers.js";
import { removeInstanceObjects } from "./instance-cleanup.js";
import {
  checkInstanceId,
  instanceLabels,
  instanceLayout,
  instancePortBindings,
  MAILPIT_WEB_PORT,
  ODOO_CONFIG_PATH,
  ODOO_DATA_PATH,
  ODOO_LONGPOLLING_PORT,
  ODOO_WEB_PORT,
  POSTGRES_DATA_PATH,
} from "./instance-layout.js";
import { inspectInstance } from "./instance-status.js";
import { ODOO_DATABASE, ODOO_DATABASE_USER, renderOdooConfig } from "./odoo-config.js";

/** The uid/gid of the `odoo` user in the official image (odoo.conf must be readable by it). */
const ODOO_UID = 101;

/**
 * InstanceCreate: network, volumes, the three containers, odoo.conf, then start (database first).
 * Anything it created is removed again when a step fails, so a failed create leaves nothing
 * behind on the host.
 */
export function createInstanceHandler(deps: DockerDeps) {
  const pull = imageHandlers(deps).find(
    (handler) => handler.input.typeName === DockerImagePullSchema.typeName,
  );
  return defineHandler({
    input: InstanceCreateSchema,
    output: InstanceCreatedSchema,
    async run(spec, context) {
      const instanceId = checkInstanceId(spec.instanceId);
      const layout = instanceLayout(spec.name);
      const images = {
        odoo: checkImageRef(spec.images?.odoo ?? "", "images.odoo"),
        postgres: checkImageRef(spec.images?.postgres ?? "", "images.postgres"),
        mailpit: checkImageRef(spec.images?.mailpit ?? "", "images.mailpit"),
      };
      checkBasePort(spec.basePort);
      const environment = checkEnv(spec.environment);
      const odooConf = renderConfigOrFail(spec);
      for (const image of new Set(Object.values(images))) {
        await ensureImage(deps, image, context, pull?.run.bind(pull));
      }
      try {
        await engineCall(`network ${layout.network}`, deps.socketPath, () =>
          deps.docker.createNetwork({
            Name: layout.network,
            Driver: "bridge",
            Labels: instanceLabels(instanceId),
            abortSignal: context.signal,
          }),
        );
        for (const volume of Object.values(layout.volumes)) {
          await engineCall(`volume ${volume}`, deps.socketPath, () =>
            deps.docker.createVolume({
              Name: volume,
              Labels: instanceLabels(instanceId),
              abortSignal: context.signal,
            }),
          );
        }
        const limits = {
          ...(spec.limits?.cpuMillis ? { NanoCpus: spec.limits.cpuMillis * 1_000_000 } : {}),
          ...(spec.limits?.memoryBytes ? { Memory: Number(spec.limits.memoryBytes) } : {}),
        };
        const common = (role: "db" | "mail" | "odoo", alias: string) => ({
          name: layout.container[role],
          Labels: instanceLabels(instanceId, role),
          NetworkingConfig: { EndpointsConfig: { [layout.network]: { Aliases: [alias] } } },
          abortSignal: context.signal,
        });
        const restart = { RestartPolicy: { Name: "unless-stopped" }, NetworkMode: layout.network };
        const ports = instancePortBindings(spec.basePort);
        const containers: Docker.Container[] = [];
        const createOne = (options: Docker.ContainerCreateOptions, what: string) =>
          engineCall(what, deps.socketPath, async () => {
            const container = await deps.docker.createContainer(options);
            containers.push(container);
            return container;
          });
        await createOne(
          {
            ...common("db", "db"),
            Image: images.postgres,
            Env: [
              `POSTGRES_USER=${ODOO_DATABASE_USER}`,
              `POSTGRES_PASSWORD=${spec.databasePassword}`,
              `POSTGRES_DB=${ODOO_DATABASE}`,
            ],
            HostConfig: { ...restart, ...limits, Binds: [`${layout.volumes.db}:${POSTGRES_DATA_PATH}`] },
          },
          `container ${layout.container.db}`,
        );
        await createOne(
          {
            ...common("mail", "mail"),
            Image: images.mailpit,
            ExposedPorts: { [`${MAILPIT_WEB_PORT}/tcp`]: {} },
            HostConfig: {
              ...restart,
              PortBindings: ports.mail,
            },
          },
          `container ${layout.container.mail}`,
        );
        const odoo = await createOne(
          {
            ...common("odoo", "odoo"),
            Image: images.odoo,
            Env: environment,
            ExposedPorts: { [`${ODOO_WEB_PORT}/tcp`]: {}, [`${ODOO_LONGPOLLING_PORT}/tcp`]: {} },
            HostConfig: {
              ...restart,
              ...limits,
              Binds: [
                `${layout.volumes.data}:${ODOO_DATA_PATH}`,
                `${layout.volumes.config}:${ODOO_CONFIG_PATH}`,
              ],
              PortBindings: ports.odoo,
            },
          },
          `container ${layout.container.odoo}`,
        );
        await writeOdooConf(deps, odoo, odooConf, context.signal);
        for (const container of containers) {
          await startContainer(container, spec.basePort, context.signal);
        }
        const status = await inspectInstance(
          deps,
          instanceId,
          { db: containers[0]?.id, mail: containers[1]?.id, odoo: odoo.id },
          context.signal,
        );
        await context.output(
          "progress",
          `instance ${spec.name} created on ports ${spec.basePort}-${spec.basePort + 2}\n`,
        );
        return { status };
      } catch (error) {
        await removeInstanceObjects(deps, instanceId, spec.name, AbortSignal.timeout(60_000)).catch(
          () => undefined,
        );
        throw toCommandError(error, `instance ${spec.name}`, deps.socketPath);
      }
    },
  });
}

function checkBasePort(port: number): void {
  if (!Number.isInteger(port) || port < 1024 || port > 65_525) {
    throw new CommandError(
      "invalid_argument",
      `base_port ${port} is outside 1024-65525: the server allocates it`,
    );
  }
}

function renderConfigOrFail(spec: InstanceCreate): string {
  try {
    return renderOdooConfig({
      adminPassword: spec.adminPassword,
      databasePassword: spec.databasePassword,
      workers: spec.workers,
      edition: spec.edition || "community",
      memoryBytes: spec.limits?.memoryBytes ?? 0n,
    });
  } catch (error) {
    throw new CommandError("invalid_argument", (error as Error).message);
  }
}

type PullRun = (args: DockerImagePull, context: CommandContext) => Promise<unknown>;

/** Pulls an image that is not on the host yet (progress goes to the command's output). */
async function ensureImage(
  deps: DockerDeps,
  image: string,
  context: CommandContext,
  pull: PullRun | undefined,
): Promise<void> {
  try {
    await deps.docker.getImage(image).inspect();
    return;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404)
      throw toCommandError(error, `image ${image}`, deps.socketPath);
  }
  if (!pull)
    throw new CommandError("not_found", `image ${image} is not on this host and pulling is not available`);
  await context.output("progress", `pulling ${image}\n`);
  await pull(create(DockerImagePullSchema, { image }), context);
}

/** odoo.conf goes into the config volume through the created container (owned by odoo, 0640). */
async function writeOdooConf(deps: DockerDeps, odoo: Docker.Container, text: string, signal: AbortSignal) {
  const archive = pack();
  archive.entry({ name: "odoo.conf", mode: 0o640, uid: ODOO_UID, gid: ODOO_UID }, text);
  archive.finalize();
  await engineCall("odoo.conf", deps.socketPath, () =>
    odoo.putArchive(archive as unknown as NodeJS.ReadableStream, {
      path: ODOO_CONFIG_PATH,
      abortSignal: signal,
    }),
  );
}

async function startContainer(
  container: Docker.Container,
  basePort: number,
  signal: AbortSignal,
): Promise<void> {
  try {
    await container.start({ abortSignal: signal });
  } catch (error) {
    const detail = engineMessage(error);
    if (/port is already allocated|address already in use/i.test(detail)) {
      throw new CommandError(
        "port_in_use",
        `a port of the block ${basePort}-${basePort + 2} is taken on the host (${detail}); create the instance again to get another block`,
      );
    }
    throw error;
  }
}
