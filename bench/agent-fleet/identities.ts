// Server records and real agent identities for the fleet benchmark, made with the server's own
// domain code against the benchmark's database: the CA the running server created is opened with
// the same master key, and every agent gets its own ECDSA P-256 key and a client certificate
// issued by issueAgentCertificate (recorded in agent_certificates, as enrollment does).
import { randomUUID, webcrypto } from "node:crypto";
import {
  createDatabase,
  createMasterKeyring,
  importSigningKey,
  issueAgentCertificate,
  openSealedSecret as open,
  x509,
} from "@ocore/server/testing";
import postgres from "postgres";

export interface AgentIdentity {
  serverId: string;
  certPem: string;
  keyPem: string;
}

export async function createIdentities(
  url: string,
  masterKey: string,
  count: number,
): Promise<{ caPem: string; agents: AgentIdentity[] }> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const database = createDatabase({ kind: "postgres", url, poolSize: 4 });
  try {
    const [ca] =
      await sql`select certificate_pem, sealed_private_key from pki_certificates where name = 'agent-ca'`;
    if (!ca) throw new Error("the server has not created its agent CA");
    const keyring = createMasterKeyring(masterKey);
    const caKeyPem = open(keyring, ca.sealed_private_key as string, "agent-ca").plaintext.toString();
    const pki = {
      issuer: {
        certificate: new x509.X509Certificate(ca.certificate_pem as string),
        signingKey: await importSigningKey(caKeyPem),
      },
    };
    const ids = Array.from({ length: count }, () => randomUUID());
    for (let i = 0; i < ids.length; i += 1000) {
      const chunk = ids.slice(i, i + 1000).map((id) => ({ id, name: `fleet-${id}` }));
      await sql`insert into servers ${sql(chunk)}`;
    }
    const now = new Date();
    const agents: AgentIdentity[] = [];
    const one = async (serverId: string) => {
      const keys = (await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
        "sign",
        "verify",
      ])) as webcrypto.CryptoKeyPair;
      const publicKey = new x509.PublicKey(await webcrypto.subtle.exportKey("spki", keys.publicKey));
      const issued = await issueAgentCertificate(database.db, pki as never, {
        csr: { publicKey } as never,
        serverId,
        days: 30,
        now,
      });
      const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
      agents.push({
        serverId,
        certPem: issued.certificatePem,
        keyPem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY"),
      });
    };
    for (let i = 0; i < ids.length; i += 50) await Promise.all(ids.slice(i, i + 50).map(one));
    return { caPem: ca.certificate_pem as string, agents };
  } finally {
    await database.close();
    await sql.end();
  }
}
