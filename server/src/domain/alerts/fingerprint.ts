import { createHash } from "node:crypto";

/** An alert's identity: its rule, its server and its labels (sorted), hashed. */
export function alertFingerprint(
  ruleKey: string,
  serverId: string,
  labels: Readonly<Record<string, string>>,
): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key]}`);
  return createHash("sha256")
    .update([ruleKey, serverId, ...sorted].join("\n"))
    .digest("hex")
    .slice(0, 32);
}
