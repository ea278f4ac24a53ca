import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { ensurePrivateDirectory, writeFileAtomic } from "../state/write-file-atomic.js";
import { certificateMatchesKey } from "./certificate-lifetime.js";

/** The agent's credentials: its key, its client certificate and the oCore CA it trusts. */
export interface Identity {
  readonly keyPem: string;
  readonly certificatePem: string;
  readonly caPem: string;
}

/** What enrollment learned, besides credentials. */
export interface EnrollmentState {
  readonly server: string;
  readonly serverId: string;
  readonly enrolledAt: string;
}

export interface IdentityStore {
  readonly directory: string;
  /** Throws an actionable error when the agent is not enrolled. */
  load(): Promise<Identity>;
  findState(): Promise<EnrollmentState | undefined>;
  saveEnrollment(identity: Identity, state: EnrollmentState): Promise<void>;
  /** Keeps the renewal key on disk before its CSR leaves, so a crash cannot orphan the new certificate. */
  savePendingKey(keyPem: string): Promise<void>;
  /** Installs a renewed certificate for the pending key. */
  saveRenewal(keyPem: string, certificatePem: string): Promise<void>;
}

export class NotEnrolledError extends Error {
  constructor(directory: string, reason: string) {
    super(
      `the agent is not enrolled (${reason} in ${directory}). Run "ocore-agent enroll --server <host:port> --token <token>" with a token from the oCore console.`,
    );
    this.name = "NotEnrolledError";
  }
}

export function createIdentityStore(directory: string): IdentityStore {
  const file = (name: string) => path.join(directory, name);
  const read = (name: string) => readFile(file(name), "utf8");

  return {
    directory,

    async load() {
      let identity: Identity;
      try {
        identity = {
          keyPem: await read("key.pem"),
          certificatePem: await read("cert.pem"),
          caPem: await read("ca.pem"),
        };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT") throw new NotEnrolledError(directory, "no key, certificate or CA");
        throw error;
      }
      if (certificateMatchesKey(identity.certificatePem, identity.keyPem)) return identity;
      // A crash between the two renames of a renewal leaves the new certificate with the old key;
      // the new key is still in renewal-key.pem.
      const pending = await read("renewal-key.pem").catch(() => undefined);
      if (pending && certificateMatchesKey(identity.certificatePem, pending)) {
        await writeFileAtomic(file("key.pem"), pending);
        await rm(file("renewal-key.pem"), { force: true });
        return { ...identity, keyPem: pending };
      }
      throw new NotEnrolledError(directory, "cert.pem does not belong to key.pem");
    },

    async findState() {
      const text = await read("state.json").catch(() => undefined);
      return text === undefined ? undefined : (JSON.parse(text) as EnrollmentState);
    },

    async saveEnrollment(identity, state) {
      await ensurePrivateDirectory(directory);
      await writeFileAtomic(file("key.pem"), identity.keyPem);
      await writeFileAtomic(file("ca.pem"), identity.caPem);
      await writeFileAtomic(file("cert.pem"), identity.certificatePem);
      await writeFileAtomic(file("state.json"), `${JSON.stringify(state, null, 2)}\n`);
    },

    async savePendingKey(keyPem) {
      await writeFileAtomic(file("renewal-key.pem"), keyPem);
    },

    async saveRenewal(keyPem, certificatePem) {
      // Certificate first: load() repairs "new certificate, old key" from renewal-key.pem.
      await writeFileAtomic(file("cert.pem"), certificatePem);
      await writeFileAtomic(file("key.pem"), keyPem);
      await rm(file("renewal-key.pem"), { force: true });
    },
  };
}
