import { eq } from "drizzle-orm";
import type { Db } from "../db/database.js";
import { pkiCertificates } from "../db/schema/pki.js";
import { AGENT_CA } from "./agent-pki.js";
import { sealedKeyId } from "./secret-box.js";

/**
 * The id of the master key this installation's secrets are sealed with: the one its agent CA's
 * private key is under. Undefined on a database where nothing is sealed yet (the first start).
 */
export async function installationKeyId(db: Db): Promise<string | undefined> {
  const [row] = await db
    .select({ sealed: pkiCertificates.sealedPrivateKey })
    .from(pkiCertificates)
    .where(eq(pkiCertificates.name, AGENT_CA));
  return row ? sealedKeyId(row.sealed) : undefined;
}
