import { newEnrollmentToken } from "../agent-identity/enrollment-token.js";
import type { JoinDeps } from "./join-deps.js";
import { caPinHex, joinFiles, readJoinTemplate, renderJoinScript, sha256Hex } from "./join-script.js";

/** The base URL hosts download from: scheme, host and port only; `field` names the input in errors. */
export function normalizeServerUrl(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  if (
    url.username ||
    url.password ||
    url.search ||
    url.hash ||
    (url.pathname !== "/" && url.pathname !== "")
  ) {
    return undefined;
  }
  if (!/^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(?::\d{1,5})?$/.test(url.host)) return undefined;
  return `${url.protocol}//${url.host}`;
}

/** A fresh secret: the enrollment token's text and hash, and the part the join URL carries. */
export function newJoinSecret(caPin: string): { token: string; secretHash: string; secret: string } {
  const { text, secretHash } = newEnrollmentToken(caPin);
  return { token: text, secretHash, secret: text.split(".")[1] ?? "" };
}

export const joinUrlOf = (serverUrl: string, secret: string) => `${serverUrl}/join/${secret}`;

/** The join script for one command, filled in; the same bytes every time for the same release. */
export async function joinScriptFor(
  deps: JoinDeps,
  join: { readonly serverUrl: string; readonly installPrefix: string; readonly unitName: string },
  secret: string,
): Promise<string> {
  const release = await deps.agentRelease();
  return renderJoinScript(await readJoinTemplate(deps.deployDir), {
    joinUrl: joinUrlOf(join.serverUrl, secret),
    gateway: deps.gatewayAddress,
    enrollmentToken: `oce1.${secret}.${deps.ca.pin}`,
    caPem: deps.ca.certificatePem,
    caSha256: caPinHex(deps.ca.pin),
    installPrefix: join.installPrefix,
    unitName: join.unitName,
    agentSha256: release.sha256,
    files: await joinFiles(deps.deployDir, release),
  });
}

/** What the console shows: the one-liner, the download-then-verify form and the uninstall command. */
export function joinCommandTexts(
  joinUrl: string,
  script: string,
  installPrefix: string,
): { command: string; verifiedCommand: string; scriptSha256: string; uninstallCommand: string } {
  const scriptSha256 = sha256Hex(script);
  return {
    command: `curl -sSL ${joinUrl} | sudo sh`,
    verifiedCommand: `curl -sSL -o ocore-join.sh ${joinUrl} && echo '${scriptSha256}  ocore-join.sh' | sha256sum -c - && sudo sh ocore-join.sh`,
    scriptSha256,
    uninstallCommand: `sudo ${installPrefix}/libexec/uninstall-agent.sh --prefix ${installPrefix}`,
  };
}
