import net from "node:net";
import type { Duplex } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger, TEST_MASTER_KEY } from "../../../test/support/agent-channel.js";
import { createTestDatabase, type TestDatabase } from "../../../test/support/test-databases.js";
import { createCommandFeed, type FeedEvent } from "../../domain/commands/command-feed.js";
import { AppError } from "../../platform/errors/app-error.js";
import { type AgentPki, ensureAgentPki } from "../../platform/pki/agent-pki.js";
import { createClientCertificate, createReplicaCertificate } from "../../platform/pki/certificates.js";
import { createMasterKeyring } from "../../platform/pki/master-key.js";
import { x509 } from "../../platform/pki/x509.js";
import { exportPrivateKeyPem, generateKeyPair } from "../../platform/pki/x509-keys.js";
import { createRelayClient, type RelayTarget, type ReplicaRelayClient } from "./relay-client.js";
import type { RelayIdentity } from "./relay-credentials.js";
import { createRelayServer, type RelayServer } from "./relay-server.js";
import { createRelayedFeed } from "./relayed-feed.js";

const SERVER = "6f1c2a52-3f7e-4c55-9d55-0a4c5f7b3e11";
const COMMAND = "0b5f7c0e-8f0a-4b9e-9a7e-2f3c4d5e6f70";
const spec = { sshdPort: 22, login: "root", gatewayPublicKey: "ssh-ed25519 AAAA" };

async function identityOf(pki: AgentPki, replicaId: string): Promise<RelayIdentity> {
  const issued = await createReplicaCertificate(pki.issuer, { replicaId, days: 1, now: new Date() });
  return { replicaId, ...issued, caCertificatePem: pki.caCertificatePem };
}

function readExactly(stream: Duplex, bytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= bytes) {
        stream.off("data", onData);
        resolve(Buffer.concat(chunks));
      }
    };
    stream.on("data", onData);
    stream.once("error", reject);
  });
}

describe("the relay between replicas (mutual TLS from the installation's CA)", () => {
  let database: TestDatabase | undefined;
  const cleanup: Array<() => unknown> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
    await database?.close();
    database = undefined;
  });

  /** Replica B holds SERVER's agent; its "agent tunnel" reaches an echo server standing in for sshd. */
  const setup = async () => {
    database = await createTestDatabase("pglite");
    const pki = await ensureAgentPki(database.db, {
      keyring: createMasterKeyring(TEST_MASTER_KEY),
      hostnames: ["localhost"],
      installationId: "12345678-relay",
      logger: silentLogger,
    });
    const echo = net.createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
    cleanup.push(() => new Promise((resolve) => echo.close(resolve)));
    const echoPort = (echo.address() as net.AddressInfo).port;
    const feedB = createCommandFeed();
    const opened: string[] = [];
    const b = await identityOf(pki, "replica-b");
    const server: RelayServer = createRelayServer({
      identity: b,
      feed: feedB,
      logger: silentLogger,
      tunnels: {
        open: async (serverId, tunnelSpec) => {
          if (serverId !== SERVER) throw new AppError("unavailable", "not held here");
          opened.push(`${serverId} ${tunnelSpec.login}@${tunnelSpec.sshdPort}`);
          return net.connect(echoPort, "127.0.0.1");
        },
      },
    });
    const port = await server.listen("127.0.0.1", 0);
    cleanup.push(() => server.close());
    const target: RelayTarget = { replicaId: "replica-b", relayAddress: `127.0.0.1:${port}` };
    const client = (identity: RelayIdentity): ReplicaRelayClient => {
      const made = createRelayClient(identity, { openTimeoutMs: 20_000 });
      cleanup.push(() => made.close());
      return made;
    };
    return { pki, target, feedB, opened, client, a: await identityOf(pki, "replica-a") };
  };

  it("carries an SSH tunnel's bytes both ways, a megabyte included, and ends it from either side", async () => {
    const { target, client, a, opened } = await setup();
    const tunnel = await client(a).openSshTunnel(target, SERVER, spec);
    expect(opened).toEqual([`${SERVER} root@22`]);
    tunnel.write("SSH-2.0-test\r\n");
    expect((await readExactly(tunnel, 14)).toString()).toBe("SSH-2.0-test\r\n");
    const big = Buffer.alloc(1024 * 1024, 7);
    big[big.length - 1] = 9;
    const back = readExactly(tunnel, big.length);
    tunnel.write(big);
    const echoed = await back;
    expect(echoed.length).toBe(big.length);
    expect(echoed.equals(big)).toBe(true);
    const closed = new Promise<void>((resolve) => tunnel.once("close", () => resolve()));
    tunnel.end();
    tunnel.resume();
    await closed;
  });

  it("refuses an agent's certificate (same CA) and a peer that is not the replica the presence named", async () => {
    const { pki, target, client, a } = await setup();
    // An agent certificate is issued by the same CA; as a relay client it must be refused.
    const keys = await generateKeyPair();
    const agentCertificate = await createClientCertificate(pki.issuer, {
      publicKey: await x509.PublicKey.create(keys.publicKey),
      serverId: SERVER,
      days: 1,
      now: new Date(),
    });
    const agent: RelayIdentity = {
      replicaId: "agent",
      certificatePem: agentCertificate.certificatePem,
      privateKeyPem: await exportPrivateKeyPem(keys.privateKey),
      caCertificatePem: pki.caCertificatePem,
    };
    await expect(client(agent).openSshTunnel(target, SERVER, spec)).rejects.toThrow(
      "the relay serves oCore replicas only",
    );
    // A's client expects replica-c at B's address: the TLS handshake fails, nothing is opened.
    await expect(
      client(a).openSshTunnel({ ...target, replicaId: "replica-c" }, SERVER, spec),
    ).rejects.toBeInstanceOf(AppError);
    // B does not hold another server's agent: the caller hears why.
    await expect(
      client(a).openSshTunnel(target, "11111111-1111-4111-8111-111111111111", spec),
    ).rejects.toThrow("not held here");
  });

  it("relays a command's live feed from the replica that stores it to watchers on another", async () => {
    const { target, feedB, client, a } = await setup();
    const innerA = createCommandFeed();
    const feedA = createRelayedFeed({
      inner: innerA,
      replicaId: "replica-a",
      relay: client(a),
      logger: silentLogger,
      serverOf: async () => SERVER,
      findHolder: async () => target,
      retryMs: 200,
    });
    const heard: FeedEvent[] = [];
    let finished!: () => void;
    const done = new Promise<void>((resolve) => {
      finished = resolve;
    });
    const stop = feedA.subscribe(COMMAND, (event) => {
      heard.push(event);
      if (event.kind === "finished") finished();
    });
    for (let i = 0; feedB.subscriptions === 0; i++) {
      if (i > 600) throw new Error("replica A never subscribed to B's feed");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    feedB.publish(COMMAND, { kind: "started" });
    feedB.publish(COMMAND, {
      kind: "output",
      sequence: 1,
      stream: 1,
      data: new TextEncoder().encode("line 1\n"),
    });
    feedB.publish(COMMAND, { kind: "finished", state: "succeeded" });
    await done;
    expect(heard.map((event) => event.kind)).toEqual(["started", "output", "finished"]);
    const output = heard[1];
    expect(output?.kind === "output" && new TextDecoder().decode(output.data)).toBe("line 1\n");
    stop();
    expect(innerA.subscriptions).toBe(0);
    for (let i = 0; feedB.subscriptions !== 0; i++) {
      if (i > 600) throw new Error("B kept the relayed subscription after the command finished");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
});
