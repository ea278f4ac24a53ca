import type { DockerDeps } from "../docker/docker-deps.js";
import { engineCall } from "../docker/docker-errors.js";
import { INSTANCE_LABEL, instanceLayout } from "./instance-layout.js";
import { findInstanceContainers } from "./instance-status.js";

/** Docker's "not there" answer: removing something already gone is fine. */
function ignoreMissing(error: unknown): undefined {
  if ((error as { statusCode?: number }).statusCode !== 404) throw error;
  return undefined;
}

/**
 * Removes an instance's containers (with their anonymous volumes), its named volumes and its
 * network. Safe to repeat: what is already gone is skipped.
 */
export async function removeInstanceObjects(
  deps: DockerDeps,
  instanceId: string,
  name: string,
  signal: AbortSignal,
): Promise<{ containers: number; volumes: number }> {
  const layout = instanceLayout(name);
  const found = (await findInstanceContainers(deps, [instanceId], signal)).get(instanceId) ?? {};
  const ids = Object.values(found);
  await Promise.all(
    ids.map((id) =>
      engineCall(`container ${id.slice(0, 12)}`, deps.socketPath, () =>
        deps.docker
          .getContainer(id)
          .remove({ force: true, v: true, abortSignal: signal })
          .catch(ignoreMissing),
      ),
    ),
  );
  // Volumes and the network are found by name but removed only when labelled with this
  // instance: an object of the same name that belongs to something else is left alone.
  let volumes = 0;
  for (const name of Object.values(layout.volumes)) {
    await engineCall(`volume ${name}`, deps.socketPath, async () => {
      const volume = deps.docker.getVolume(name);
      const info = await volume.inspect({ abortSignal: signal }).catch(ignoreMissing);
      if (info?.Labels?.[INSTANCE_LABEL] !== instanceId) return;
      await volume.remove({ abortSignal: signal }).catch(ignoreMissing);
      volumes += 1;
    });
  }
  await engineCall(`network ${layout.network}`, deps.socketPath, async () => {
    const network = deps.docker.getNetwork(layout.network);
    const info = (await network.inspect().catch(ignoreMissing)) as
      | { Labels?: Record<string, string> }
      | undefined;
    if (info?.Labels?.[INSTANCE_LABEL] !== instanceId) return;
    await network.remove({ abortSignal: signal }).catch(ignoreMissing);
  });
  return { containers: ids.length, volumes };
}
