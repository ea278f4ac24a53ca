import { createReadStream } from "node:fs";
import { create } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import {
  AgentReleaseInfoSchema,
  type DownloadAgentRequest,
  type DownloadAgentResponse,
  DownloadAgentResponseSchema,
} from "@ocore/proto/gen/ocore/agent/v1/release_service_pb.js";
import { authenticateAgent } from "../../domain/agent-identity/authenticate-agent.js";
import { loadAgentRelease } from "../../domain/agent-release/agent-release.js";
import type { Db } from "../../platform/db/database.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { Logger } from "../../platform/logging/logger.js";
import type { AgentPki } from "../../platform/pki/agent-pki.js";
import { endFromError, toServiceError } from "./grpc-status.js";

export interface DownloadAgentDeps {
  readonly db: Db;
  readonly pki: AgentPki;
  readonly logger: Logger;
  readonly now: () => Date;
  /** OCORE_AGENT_EXECUTABLE. */
  readonly executablePath: string;
}

/** Chunks stay well under the gateway's 4 MiB message limit. */
const CHUNK_BYTES = 256 * 1024;

type Call = grpc.ServerWritableStream<DownloadAgentRequest, DownloadAgentResponse>;

/**
 * ocore.agent.v1.AgentReleaseService/DownloadAgent on the agent gateway: only an enrolled agent
 * (verified client certificate, like Connect) gets the executable; the first message describes
 * the release, then the file follows in order, paced by the stream's flow control.
 */
export function createDownloadAgentHandler(
  deps: DownloadAgentDeps,
): grpc.handleServerStreamingCall<DownloadAgentRequest, DownloadAgentResponse> {
  return (call) => {
    serve(deps, call).catch((error: unknown) => {
      const end = endFromError(error);
      if (end.code === "internal") deps.logger.error({ err: error }, "agent download failed");
      else deps.logger.info({ peer: call.getPeer(), reason: end.message }, "agent download refused");
      // grpc-js turns an "error" event of a server stream into the call's status.
      call.emit("error", toServiceError(end));
    });
  };
}

async function serve(deps: DownloadAgentDeps, call: Call): Promise<void> {
  let cancelled = false;
  call.once("cancelled", () => {
    cancelled = true;
  });
  const identity = await authenticateAgent(deps.db, deps.pki, {
    certificateDer: call.getAuthContext()?.sslPeerCertificate?.raw,
    now: deps.now(),
  });
  const release = await loadAgentRelease(deps.executablePath);
  const wanted = call.request.sha256;
  if (wanted !== "" && wanted !== release.sha256) {
    throw new AppError(
      "failed_precondition",
      `this server now distributes agent ${release.version} (sha256 ${release.sha256}), not ${wanted}: start the upgrade again`,
    );
  }
  deps.logger.info({ serverId: identity.serverId, version: release.version }, "agent download started");
  await write(
    call,
    create(DownloadAgentResponseSchema, {
      part: {
        case: "release",
        value: create(AgentReleaseInfoSchema, {
          version: release.version,
          sha256: release.sha256,
          size: BigInt(release.size),
        }),
      },
    }),
  );
  for await (const chunk of createReadStream(release.path, { highWaterMark: CHUNK_BYTES })) {
    if (cancelled) return;
    await write(
      call,
      create(DownloadAgentResponseSchema, { part: { case: "chunk", value: chunk as Buffer } }),
    );
  }
  call.end();
}

/** Writes one message and waits for the stream to drain (or go away) when its buffer is full. */
function write(call: Call, message: DownloadAgentResponse): Promise<void> {
  if (call.write(message)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      call.off("drain", done);
      call.off("cancelled", done);
      resolve();
    };
    call.once("drain", done);
    call.once("cancelled", done);
  });
}
