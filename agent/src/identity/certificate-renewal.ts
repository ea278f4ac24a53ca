import type { Renewal } from "../connection/agent-session.js";
import { certificateMatchesKey, needsRenewal, readCertificateInfo } from "./certificate-lifetime.js";
import type { IdentityStore } from "./identity-store.js";
import { generateKeyAndCsr } from "./key-pair.js";

/**
 * Renewal of the client certificate over the stream: a new key for every certificate, kept on
 * disk (0600) before its CSR leaves, installed only when the server's certificate fits it.
 */
export async function createCertificateRenewal(options: {
  store: IdentityStore;
  now: () => number;
  commonName: string;
}): Promise<Renewal> {
  let info = readCertificateInfo((await options.store.load()).certificatePem);
  let pendingKeyPem: string | undefined;
  return {
    needed: () => needsRenewal(info, options.now()),
    async begin() {
      const { keyPem, csrPem } = await generateKeyAndCsr(options.commonName);
      await options.store.savePendingKey(keyPem);
      pendingKeyPem = keyPem;
      return csrPem;
    },
    async complete(certificatePem) {
      if (!pendingKeyPem) throw new Error("a renewed certificate arrived but no renewal was asked for");
      if (!certificateMatchesKey(certificatePem, pendingKeyPem)) {
        throw new Error("the renewed certificate does not belong to the key this agent generated");
      }
      await options.store.saveRenewal(pendingKeyPem, certificatePem);
      pendingKeyPem = undefined;
      info = readCertificateInfo(certificatePem);
    },
  };
}
