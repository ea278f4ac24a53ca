import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { AgentRelease } from "../agent-release/agent-release.js";
import { hostFiles } from "../provisioning/host-workspace.js";

/** One file the join script downloads: its name under `<join url>/files/`, where it is, its digest. */
export interface JoinFile {
  readonly name: string;
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
}

/** What the script is rendered with. Every value is checked against a pattern before use. */
export interface JoinScriptParameters {
  /** `<server url>/join/<secret>`. */
  readonly joinUrl: string;
  readonly gateway: string;
  readonly enrollmentToken: string;
  /** The CA certificate the token pins, and its SHA-256 (hex, of the DER). */
  readonly caPem: string;
  readonly caSha256: string;
  readonly installPrefix: string;
  readonly unitName: string;
  readonly agentSha256: string;
  readonly files: readonly JoinFile[];
}

const BEGIN = "# BEGIN JOIN PARAMETERS\n";
const END = "# END JOIN PARAMETERS\n";

/**
 * The parameters as the script's sh assignments. A value that does not match its pattern throws
 * (the server's own settings: never user input, which the script never carries); none of the
 * patterns admits a quote, so single quotes hold every value as plain data.
 */
const patterns: Record<keyof Omit<JoinScriptParameters, "files">, RegExp> = {
  joinUrl: /^https?:\/\/(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(?::\d{1,5})?\/join\/[A-Za-z0-9_-]{43}$/,
  gateway: /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):\d{1,5}$/,
  enrollmentToken: /^oce1\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/,
  caPem: /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n?$/,
  caSha256: /^[0-9a-f]{64}$/,
  installPrefix: /^\/[A-Za-z0-9._/-]+$/,
  unitName: /^[A-Za-z0-9_.@-]+$/,
  agentSha256: /^[0-9a-f]{64}$/,
};
const FILE_NAME = /^[A-Za-z0-9._-]+$/;

function quoted(name: string, value: string, pattern: RegExp): string {
  if (!pattern.test(value) || value.includes("'") || value.includes("..")) {
    throw new Error(`join script parameter ${name} has an unexpected form: ${JSON.stringify(value)}`);
  }
  return `'${value}'`;
}

/** The template with its parameter block filled in. Pure: the same input gives the same bytes. */
export function renderJoinScript(template: string, parameters: JoinScriptParameters): string {
  const start = template.indexOf(BEGIN);
  const end = template.indexOf(END);
  if (start < 0 || end < start) throw new Error("deploy/host/join.sh has no parameter block");
  const fileLines = parameters.files.map((file) => {
    if (!FILE_NAME.test(file.name) || !patterns.agentSha256.test(file.sha256)) {
      throw new Error(`join file ${JSON.stringify(file.name)} has an unexpected name or digest`);
    }
    return `${file.sha256} ${file.size} ${file.name}`;
  });
  const assignments = [
    `join_url=${quoted("joinUrl", parameters.joinUrl, patterns.joinUrl)}`,
    `gateway=${quoted("gateway", parameters.gateway, patterns.gateway)}`,
    `enrollment_token=${quoted("enrollmentToken", parameters.enrollmentToken, patterns.enrollmentToken)}`,
    `ca_sha256=${quoted("caSha256", parameters.caSha256, patterns.caSha256)}`,
    `ca_pem=${quoted("caPem", parameters.caPem.trim(), patterns.caPem)}`,
    `install_prefix=${quoted("installPrefix", parameters.installPrefix, patterns.installPrefix)}`,
    `unit_name=${quoted("unitName", parameters.unitName, patterns.unitName)}`,
    `agent_sha256=${quoted("agentSha256", parameters.agentSha256, patterns.agentSha256)}`,
    `files='${fileLines.join("\n")}'`,
  ];
  return `${template.slice(0, start + BEGIN.length)}${assignments.join("\n")}\n${template.slice(end)}`;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The CA pin of the tokens (base64url SHA-256 of the DER) in hex, as `sha256sum` prints it. */
export function caPinHex(caPin: string): string {
  return Buffer.from(caPin, "base64url").toString("hex");
}

/** The join script's template, as committed in deploy/host/. */
export function readJoinTemplate(deployDir: string): Promise<string> {
  return readFile(path.join(deployDir, "host", "join.sh"), "utf8");
}

const digests = new Map<string, { readonly key: string; readonly file: JoinFile }>();

/** The digest of one file, remembered while its size and modification time stay the same. */
async function digestOf(name: string, filePath: string): Promise<JoinFile> {
  const info = await stat(filePath);
  const key = `${info.size}:${info.mtimeMs}`;
  const known = digests.get(filePath);
  if (known?.key === key) return known.file;
  const file = { name, path: filePath, size: info.size, sha256: sha256Hex(await readFile(filePath)) };
  digests.set(filePath, { key, file });
  return file;
}

/**
 * What the join script downloads: the install scripts and unit that SSH onboarding uploads, and
 * the agent executable (its digest from the release's sidecar, checked by the script).
 */
export async function joinFiles(deployDir: string, release: AgentRelease): Promise<JoinFile[]> {
  const files = await Promise.all((await hostFiles(deployDir)).map((file) => digestOf(file.name, file.path)));
  return [
    ...files.sort((a, b) => a.name.localeCompare(b.name)),
    { name: "ocore-agent", path: release.path, sha256: release.sha256, size: release.size },
  ];
}
