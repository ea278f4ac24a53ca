import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { chmod, link, rename, rm } from "node:fs/promises";
import { promisify } from "node:util";
import {
  AgentUpgradeResultSchema,
  AgentUpgradeSchema,
} from "@ocore/proto/gen/ocore/agent/v1/agent_commands_pb.js";
import { CommandError, defineHandler } from "../commands/command-handler.js";
import type { AgentConfig } from "../config/config.js";
import { parseServerAddress } from "../connection/server-address.js";
import { createIdentityStore } from "../identity/identity-store.js";
import { readAgentVersion } from "../version.js";
import { type AfterFinish, afterFinish, stopThisAgent } from "./after-finish.js";
import { downloadRelease } from "./download-release.js";
import { type InstallLayout, readInstallLayout } from "./install-layout.js";
import { readUpgradeMarker, writeUpgradeMarker } from "./upgrade-marker.js";

const run = promisify(execFile);
const MAX_EXECUTABLE_BYTES = 512 * 1024 * 1024;

export interface UpgradeHandlerOptions {
  /** Where the identity lives and which server to download from (the agent's settings). */
  readonly config: Pick<AgentConfig, "server" | "stateDir">;
  readonly agentVersion?: () => string;
  readonly layout?: () => Promise<InstallLayout>;
  readonly afterFinish?: AfterFinish;
  readonly stop?: () => void;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

function validate(args: { version: string; sha256: string; size: bigint }): void {
  if (!/^[0-9A-Za-z][0-9A-Za-z.+-]{0,63}$/.test(args.version))
    throw new CommandError("invalid_argument", `version "${args.version}" is not a release version`);
  if (!/^[0-9a-f]{64}$/.test(args.sha256))
    throw new CommandError("invalid_argument", "sha256 must be 64 lowercase hex digits");
  if (args.size <= 0n || args.size > BigInt(MAX_EXECUTABLE_BYTES))
    throw new CommandError("invalid_argument", `size ${args.size} is not a plausible executable size`);
}

/**
 * ocore.agent.v1.AgentUpgrade: download → verify (size, SHA-256, `<new> version`) → keep the
 * running executable as .prev → marker → atomic swap → finish → exit; the supervisor starts the
 * new executable, which confirms the upgrade once it reaches the server (upgrade-guard.ts).
 */
export function createAgentUpgradeHandler(options: UpgradeHandlerOptions) {
  const agentVersion = options.agentVersion ?? readAgentVersion;
  const layoutOf = options.layout ?? (() => readInstallLayout());
  const later = options.afterFinish ?? afterFinish;
  const stop = options.stop ?? stopThisAgent;

  return defineHandler({
    input: AgentUpgradeSchema,
    output: AgentUpgradeResultSchema,
    async run(args, context) {
      validate(args);
      const layout = await layoutOf();
      const current = agentVersion();
      if (await readUpgradeMarker(layout.marker)) {
        throw new CommandError(
          "upgrade_in_progress",
          `an upgrade is still unconfirmed (${layout.marker} exists): wait until the agent has reconnected, then retry`,
        );
      }
      if (args.version === current && (await sha256Of(layout.executable)) === args.sha256) {
        return { previousVersion: current, installedVersion: current, alreadyCurrent: true };
      }
      const settings = options.config;
      const store = createIdentityStore(settings.stateDir);
      const identity = await store.load();
      const server = settings.server ?? (await store.findState())?.server;
      if (!server) throw new CommandError("not_installed", "no server address is configured");

      const size = Number(args.size);
      let reported = 0;
      const downloaded = await downloadRelease({
        address: parseServerAddress(server),
        identity,
        sha256: args.sha256,
        maxBytes: size,
        target: layout.download,
        signal: context.signal,
        onProgress: (bytes) => {
          const percent = Math.floor((bytes / size) * 10) * 10;
          if (percent > reported) {
            reported = percent;
            void context.output("progress", `downloaded ${percent} %\n`);
          }
        },
      });
      try {
        if (downloaded.size !== size || downloaded.sha256 !== args.sha256) {
          throw new CommandError(
            "verification_failed",
            `the downloaded executable is ${downloaded.size} bytes with SHA-256 ${downloaded.sha256}, expected ${size} bytes with ${args.sha256}: start the upgrade again`,
          );
        }
        await chmod(layout.download, 0o755);
        const selfTest = await run(layout.download, ["version"], {
          env: { PATH: "/usr/bin:/bin" },
          timeout: 30_000,
        }).catch((error: unknown) => {
          throw new CommandError(
            "verification_failed",
            `the new executable does not run on this host (${error instanceof Error ? error.message : String(error)}): nothing was changed`,
          );
        });
        if (selfTest.stdout.trim() !== args.version) {
          throw new CommandError(
            "verification_failed",
            `the new executable reports version "${selfTest.stdout.trim()}", expected "${args.version}": nothing was changed`,
          );
        }
        await context.output("progress", `verified ${args.version}; swapping executables\n`);
        await rm(layout.previous, { force: true });
        await link(layout.executable, layout.previous);
        await writeUpgradeMarker(layout.marker, { from: current, to: args.version, attempts: 0 });
        await rename(layout.download, layout.executable);
      } catch (error) {
        await rm(layout.download, { force: true });
        throw error;
      }
      later(stop);
      return { previousVersion: current, installedVersion: args.version, alreadyCurrent: false };
    },
  });
}
