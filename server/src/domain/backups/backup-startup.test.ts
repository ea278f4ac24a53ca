import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMULATOR_CREDENTIALS, type S3Emulator, startS3Emulator } from "../../../test/support/s3-emulator.js";
import { tempDataDir } from "../../../test/support/server-process.js";
import { loadConfig } from "../../platform/config/config.js";
import { ConfigError } from "../../platform/config/config-error.js";
import { startServer } from "../../startup/start-server.js";

/** The whole server started in-process with the S3 backup store (and its backup scheduler). */
describe("starting the server with an S3 backup store", () => {
  let emulator: S3Emulator;
  const dataDirs: string[] = [];
  beforeAll(async () => {
    emulator = await startS3Emulator("ocore-startup");
  });
  afterAll(async () => {
    await emulator?.close();
    for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
  });

  const configWith = (bucket: string) => {
    const dataDir = tempDataDir();
    dataDirs.push(dataDir);
    return loadConfig({
      OCORE_DATA_DIR: dataDir,
      OCORE_HTTP_ADDR: "127.0.0.1:0",
      OCORE_AGENT_ADDR: "127.0.0.1:0",
      OCORE_CONSOLE: "off",
      OCORE_BACKUP_STORE: "s3",
      OCORE_BACKUP_S3_ENDPOINT: emulator.endpoint,
      OCORE_BACKUP_S3_BUCKET: bucket,
      OCORE_BACKUP_S3_FORCE_PATH_STYLE: "on",
      OCORE_BACKUP_S3_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
      OCORE_BACKUP_S3_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
    });
  };
  const logger = pino({ level: "silent" });

  it("refuses an unknown bucket with the setting to fix, and stops what it had started", async () => {
    const config = configWith("missing-bucket");
    const error = await startServer({ config, logger, version: "test" }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe("OCORE_BACKUP_S3_BUCKET");
    expect(String(error)).toMatch(/^OCORE_BACKUP_S3_BUCKET: bucket "missing-bucket" at .* does not exist\. /);
    expect(existsSync(path.join(config.dataDir, "server.lock"))).toBe(false);
  }, 120_000);

  it("starts with an existing bucket and stops cleanly (scheduler included)", async () => {
    const server = await startServer({ config: configWith(emulator.bucket), logger, version: "test" });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await server.close();
  }, 120_000);
});
