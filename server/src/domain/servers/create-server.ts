import { eq } from "drizzle-orm";
import { servers } from "../../platform/db/schema/servers.js";
import { AppError } from "../../platform/errors/app-error.js";
import { isHostKeyFingerprint } from "../../platform/ssh/host-key.js";
import type { SshCredentials } from "../../platform/ssh/ssh-client.js";
import { storeCredentials } from "../../platform/ssh/ssh-credentials.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { enqueueJob } from "../provisioning/job-store.js";
import { checkAccepted, checkPlanned, type LifecycleDeps } from "./lifecycle-deps.js";
import type { ServerRow } from "./servers.js";
import { checkHost, checkPort, checkServerName, checkSshUser, checkTags } from "./tags.js";

/**
 * Adds a server and queues its provisioning: the API answers at once with status `connecting`,
 * the worker does the rest. An expected host key fingerprint is pinned before the first contact.
 */
export async function createServer(
  deps: LifecycleDeps,
  context: AuditContext,
  input: {
    readonly name: string;
    readonly host: string;
    readonly sshPort: number;
    readonly sshUser: string;
    readonly credentials: SshCredentials;
    readonly tags: Readonly<Record<string, string>>;
    readonly expectedHostKey: string;
    readonly plannedInstances: number;
    readonly acceptedRequirements: readonly string[];
  },
): Promise<ServerRow> {
  const name = checkServerName(input.name);
  const host = checkHost(input.host);
  const sshPort = checkPort(input.sshPort === 0 ? 22 : input.sshPort);
  const sshUser = checkSshUser(input.sshUser || "root");
  const tags = checkTags(input.tags);
  const expected = input.expectedHostKey.trim();
  if (expected && !isHostKeyFingerprint(expected)) {
    throw AppError.invalid(
      "expectedHostKeyFingerprint",
      "must look like SHA256:… as `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` prints it on the host",
    );
  }
  const plannedInstances = checkPlanned(input.plannedInstances);
  const accepted = checkAccepted(input.acceptedRequirements);
  const now = deps.now();
  const row = await deps.db.transaction(async (tx) => {
    const [clash] = await tx.select({ id: servers.id }).from(servers).where(eq(servers.name, name));
    if (clash) throw new AppError("already_exists", `a server named "${name}" exists; choose another name`);
    const [created] = await tx
      .insert(servers)
      .values({
        name,
        host,
        sshPort,
        sshUser,
        tags,
        status: "connecting",
        hostKeyFingerprint: expected || null,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    if (!created) throw new Error("the server was not created");
    await storeCredentials(tx, deps.sshKeyring, created.id, input.credentials, now);
    await enqueueJob(tx, {
      serverId: created.id,
      kind: "provision",
      step: "connect",
      now,
      plannedInstances,
      acceptedRequirements: accepted,
    });
    await recordAudit(
      tx,
      context,
      {
        action: "server.create",
        targetType: "server",
        targetId: created.id,
        after: {
          ...created,
          credentials: input.credentials.kind,
          plannedInstances,
          acceptedRequirements: accepted,
        },
      },
      now,
    );
    return created;
  });
  deps.onJobQueued();
  return row;
}
