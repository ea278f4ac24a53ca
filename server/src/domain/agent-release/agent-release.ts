import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { AppError } from "../../platform/errors/app-error.js";

/**
 * The agent executable this server hands out (onboarding uploads it, upgrades download it):
 * `agent/dist-sea/ocore-agent` and its `.json` sidecar written by `npm run build:agent`.
 */
export interface AgentRelease {
  /** Absolute path of the executable. */
  readonly path: string;
  readonly version: string;
  /** Lowercase hex SHA-256 of the executable. */
  readonly sha256: string;
  /** Size in bytes. */
  readonly size: number;
}

const sidecarSchema = z.object({
  version: z.string().regex(/^[0-9A-Za-z][0-9A-Za-z.+-]{0,63}$/, "is not a version string"),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "is not a lowercase hex SHA-256"),
  size: z.number().int().positive(),
  node: z.string().optional(),
});

/** Where the repository's build puts the executable, resolved from this module's location. */
export function defaultAgentExecutable(): string {
  return path.resolve(new URL("../../../../agent/dist-sea/ocore-agent", import.meta.url).pathname);
}

const rebuild = "Build it with `npm run build:agent` or point OCORE_AGENT_EXECUTABLE at a built agent.";

/**
 * Reads `<executablePath>.json` and checks it against the file on disk (size). The SHA-256 is
 * taken from the sidecar and verified by whoever receives the bytes (the install script, the
 * agent's upgrade), so loading stays cheap for a 120 MB file.
 */
export async function loadAgentRelease(executablePath: string): Promise<AgentRelease> {
  const executable = path.resolve(executablePath);
  const sidecarPath = `${executable}.json`;
  let text: string;
  try {
    text = await readFile(sidecarPath, "utf8");
  } catch (error) {
    throw new AppError(
      "failed_precondition",
      `no agent release at ${executable} (cannot read ${sidecarPath}: ${(error as NodeJS.ErrnoException).code ?? String(error)}). ${rebuild}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AppError("failed_precondition", `${sidecarPath} is not valid JSON. ${rebuild}`);
  }
  const parsed = sidecarSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError(
      "failed_precondition",
      `${sidecarPath}: ${String(issue?.path[0] ?? "content")} ${issue?.message ?? "is invalid"}. ${rebuild}`,
    );
  }
  let size: number;
  try {
    size = (await stat(executable)).size;
  } catch (error) {
    throw new AppError(
      "failed_precondition",
      `the agent executable ${executable} is missing (${(error as NodeJS.ErrnoException).code ?? String(error)}). ${rebuild}`,
    );
  }
  if (size !== parsed.data.size) {
    throw new AppError(
      "failed_precondition",
      `the agent executable ${executable} is ${size} bytes but ${sidecarPath} says ${parsed.data.size}: the build was interrupted or the files come from different builds. ${rebuild}`,
    );
  }
  return { path: executable, version: parsed.data.version, sha256: parsed.data.sha256, size };
}
