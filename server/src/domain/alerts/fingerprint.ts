import { createHash } from "node:crypto";

/**
 * Fingerprints already computed, by their input: every cycle asks again for the same few per
 * server (about 5 × 10,000 hashes at 10,000 servers), so they are remembered. Cleared when it
 * grows past MEMO_LIMIT (servers removed, mounts renamed), which costs one cycle of hashing.
 */
const memo = new Map<string, string>();
const MEMO_LIMIT = 500_000;

/** An alert's identity: its rule, its server and its labels (sorted), hashed. */
export function alertFingerprint(
  ruleKey: string,
  serverId: string,
  labels: Readonly<Record<string, string>>,
): string {
  // The rule, the server and each label in key order, one a line.
  let input = `${ruleKey}\n${serverId}`;
  const keys = Object.keys(labels);
  if (keys.length > 1) keys.sort();
  for (const key of keys) input += `\n${key}=${labels[key]}`;
  const known = memo.get(input);
  if (known !== undefined) return known;
  const fingerprint = createHash("sha256").update(input).digest("hex").slice(0, 32);
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(input, fingerprint);
  return fingerprint;
}
