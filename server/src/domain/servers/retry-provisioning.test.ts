import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from "../../../test/support/test-databases.js";
import { servers } from "../../platform/db/schema/servers.js";
import { masterKeyFromBase64 } from "../../platform/pki/master-key.js";
import { createSshKeyring, storeCredentials } from "../../platform/ssh/ssh-credentials.js";
import { systemContext } from "../audit/audit-context.js";
import { findJob } from "../provisioning/job-store.js";
import type { LifecycleDeps } from "./lifecycle-deps.js";
import { retryProvisioning } from "./retry-provisioning.js";
import { getServer } from "./servers.js";

const key = () => randomBytes(32).toString("base64");

describe.each(databaseKinds)("retrying provisioning on %s", (kind) => {
  let database: TestDatabase;
  let deps: LifecycleDeps;
  let queued: number;
  afterEach(() => database.close());

  beforeEach(async () => {
    database = await createTestDatabase(kind);
    queued = 0;
    deps = {
      db: database.db,
      sshKeyring: createSshKeyring({
        configured: { current: key(), previous: [] },
        masterKeys: [masterKeyFromBase64(key())],
      }),
      now: () => new Date(),
      onJobQueued: () => {
        queued += 1;
      },
    };
  });

  async function activeServer(name: string): Promise<string> {
    const [row] = await database.db.insert(servers).values({ name, status: "active" }).returning();
    return row?.id ?? "";
  }

  it("refuses up front when no credentials are kept and none are given: the server stays active", async () => {
    const id = await activeServer("forgotten");
    await expect(retryProvisioning(deps, systemContext(), { id })).rejects.toMatchObject({
      code: "failed_precondition",
      message: expect.stringMatching(/no SSH credentials are kept .*retry with a password or private key/),
    });
    expect((await getServer(database.db, id)).status).toBe("active");
    expect(await findJob(database.db, id)).toBeUndefined();
    expect(queued).toBe(0);
  });

  it("starts over from the SSH connection with stored or new credentials", async () => {
    const id = await activeServer("kept");
    await storeCredentials(
      database.db,
      deps.sshKeyring,
      id,
      { kind: "password", password: "pw" },
      new Date(),
    );
    expect((await retryProvisioning(deps, systemContext(), { id })).status).toBe("connecting");
    expect(await findJob(database.db, id)).toMatchObject({
      kind: "provision",
      step: "connect",
      state: "pending",
    });

    const other = await activeServer("given");
    const row = await retryProvisioning(deps, systemContext(), {
      id: other,
      credentials: { kind: "password", password: "pw" },
    });
    expect(row.status).toBe("connecting");
    expect(queued).toBe(2);
  });
});
