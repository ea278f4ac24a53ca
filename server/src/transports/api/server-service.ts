import type { ServiceImpl } from "@connectrpc/connect";
import { DataFormat, type ServerService } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import { scopeOf } from "../../domain/auth/principal.js";
import { parseSelector } from "../../domain/auth/selector.js";
import { acceptHostKey } from "../../domain/servers/accept-host-key.js";
import { createServer } from "../../domain/servers/create-server.js";
import { forgetCredentials } from "../../domain/servers/forget-credentials.js";
import type { LifecycleDeps } from "../../domain/servers/lifecycle-deps.js";
import { requestServerDeletion } from "../../domain/servers/request-server-deletion.js";
import { retryProvisioning } from "../../domain/servers/retry-provisioning.js";
import type { ServerCountCache } from "../../domain/servers/server-counts.js";
import { getServerDetails } from "../../domain/servers/server-details.js";
import { exportServerChunks, exportServers } from "../../domain/servers/server-export.js";
import { importServers } from "../../domain/servers/server-import.js";
import { listServerPage } from "../../domain/servers/server-page.js";
import { getServer, listServers, type ServerRow, updateServer } from "../../domain/servers/servers.js";
import { updateMatchingServers } from "../../domain/servers/update-matching-servers.js";
import type { Db } from "../../platform/db/database.js";
import { AppError } from "../../platform/errors/app-error.js";
import { checkCredentials } from "../../platform/ssh/ssh-credentials.js";
import { auditContextOf, principalOf } from "./request-context.js";
import { serverMessage } from "./server-messages.js";

function formatOf(format: DataFormat): "csv" | "json" {
  if (format === DataFormat.CSV) return "csv";
  if (format === DataFormat.JSON) return "json";
  throw AppError.invalid("format", "choose CSV or JSON");
}

/**
 * The lifecycle RPCs need the provisioning parts (credential keys, the worker); an API built
 * without them (a read-only harness) refuses those RPCs and serves the rest.
 */
export function createServerService({
  db,
  lifecycle,
  counts,
}: {
  db: Db;
  lifecycle?: LifecycleDeps;
  /** Per-status counts shared with the live fleet; later pages of a listing reuse the first's. */
  counts?: ServerCountCache;
}): ServiceImpl<typeof ServerService> {
  const requireLifecycle = (): LifecycleDeps => {
    if (!lifecycle) {
      throw new AppError(
        "unavailable",
        "this server process does not run provisioning; call another replica",
      );
    }
    return lifecycle;
  };
  const withDetails = async (row: ServerRow) => serverMessage(row, await getServerDetails(db, row));
  return {
    async listServers(request, context) {
      const scope = scopeOf(principalOf(context), "servers.read");
      const page = await listServerPage(
        db,
        scope,
        {
          statuses: request.statuses,
          selector: request.selector ? parseSelector(request.selector) : undefined,
          query: request.query,
          orderBy: request.orderBy,
          pageSize: request.pageSize,
          pageToken: request.pageToken,
        },
        { counts },
      );
      return {
        servers: page.rows.map((row) => serverMessage(row)),
        nextPageToken: page.nextPageToken,
        totalSize: page.totalSize,
        statusCounts: page.statusCounts,
      };
    },
    async getServer(request) {
      return { server: await withDetails(await getServer(db, request.id)) };
    },
    async updateServer(request, context) {
      const row = await updateServer(db, auditContextOf(context), {
        id: request.id,
        name: request.name,
        tags: request.replaceTags ? request.tags : undefined,
      });
      return { server: serverMessage(row) };
    },
    async updateMatchingServers(request, context) {
      const filter = request.filter;
      const result = await updateMatchingServers(
        db,
        auditContextOf(context),
        scopeOf(principalOf(context), "servers.write"),
        {
          filter: {
            statuses: filter?.statuses ?? [],
            selector: filter?.selector ? parseSelector(filter.selector, "filter.selector") : undefined,
            query: filter?.query ?? "",
            ids: filter?.ids ?? [],
          },
          setTags: request.setTags,
          removeTags: request.removeTags,
          dryRun: request.dryRun,
          expectedCount: request.expectedCount,
        },
      );
      return result;
    },
    async importServers(request, context) {
      const report = await importServers(db, auditContextOf(context), {
        format: formatOf(request.format),
        data: request.data,
        dryRun: request.dryRun,
      });
      return report;
    },
    async exportServers(request, context) {
      const scope = scopeOf(principalOf(context), "servers.read");
      const rows = await listServers(db, scope, {
        selector: request.selector ? parseSelector(request.selector) : undefined,
      });
      return { data: new TextEncoder().encode(exportServers(rows, formatOf(request.format))) };
    },
    async *exportServersStream(request, context) {
      const scope = scopeOf(principalOf(context), "servers.read");
      const chunks = exportServerChunks(db, scope, {
        format: formatOf(request.format),
        selector: request.selector ? parseSelector(request.selector) : undefined,
      });
      for await (const chunk of chunks) yield { data: new TextEncoder().encode(chunk) };
    },
    async createServer(request, context) {
      const row = await createServer(requireLifecycle(), auditContextOf(context), {
        name: request.name,
        host: request.host,
        sshPort: request.sshPort,
        sshUser: request.sshUser,
        credentials: checkCredentials(request),
        tags: request.tags,
        expectedHostKey: request.expectedHostKeyFingerprint,
        plannedInstances: request.plannedInstances,
        acceptedRequirements: request.acceptedRequirements,
      });
      return { server: await withDetails(row) };
    },
    async retryProvisioning(request, context) {
      const given = request.password || request.privateKey || request.passphrase;
      const row = await retryProvisioning(requireLifecycle(), auditContextOf(context), {
        id: request.id,
        credentials: given ? checkCredentials(request) : undefined,
        acceptedRequirements: request.replaceAccepted ? request.acceptedRequirements : undefined,
      });
      return { server: await withDetails(row) };
    },
    async deleteServer(request, context) {
      const row = await requestServerDeletion(requireLifecycle(), auditContextOf(context), {
        id: request.id,
        force: request.force,
      });
      return { server: await withDetails(row) };
    },
    async forgetCredentials(request, context) {
      const row = await forgetCredentials(requireLifecycle(), auditContextOf(context), { id: request.id });
      return { server: await withDetails(row) };
    },
    async acceptHostKey(request, context) {
      const row = await acceptHostKey(requireLifecycle(), auditContextOf(context), {
        id: request.id,
        fingerprint: request.fingerprint,
      });
      return { server: await withDetails(row) };
    },
  };
}
