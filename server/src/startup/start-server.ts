import type { AddressInfo } from "node:net";
import { sql } from "drizzle-orm";
import { createErrorInterceptor } from "../api/error-interceptor.js";
import { createApiRoutes } from "../api/routes.js";
import { createSystemService } from "../api/system-service.js";
import type { Config } from "../config/config.js";
import { createDatabase } from "../db/database.js";
import { type ConsoleHandler, createConsoleHandler, defaultWebDir } from "../http/console-handler.js";
import { createHttpServer } from "../http/http-server.js";
import { ensureInstallation } from "../installation/ensure-installation.js";
import type { Logger } from "../logging/logger.js";
import { getSystemInfo } from "../system/system-info.js";
import { prepareDataDir } from "./data-dir.js";
import { describeDatabaseFailure } from "./database-errors.js";
import { describeListenFailure } from "./listen-errors.js";

export interface RunningServer {
  readonly address: AddressInfo;
  /** The URL users open: OCORE_PUBLIC_URL, or the listen address. */
  readonly url: string;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly version: string;
  readonly now?: () => Date;
}

/**
 * Starts every part of the control server in order. When a step fails, the parts already
 * started are stopped again in reverse order before the error (a ConfigError naming the
 * setting to fix, where there is one) reaches the caller: nothing is left half-started.
 */
export async function startServer({
  config,
  logger,
  version,
  now = () => new Date(),
}: StartOptions): Promise<RunningServer> {
  const stack: Array<() => Promise<void> | void> = [];
  const closeAll = async () => {
    for (const close of stack.reverse().splice(0)) {
      try {
        await close();
      } catch (error) {
        logger.warn({ err: error }, "error while stopping");
      }
    }
  };

  try {
    const startedAt = now();
    const lock = prepareDataDir(config.dataDir);
    stack.push(() => lock.release());

    const database = createDatabase(config.database);
    stack.push(() => database.close());
    let installationId: string;
    try {
      await database.migrate();
      installationId = (await ensureInstallation(database.db)).id;
    } catch (error) {
      throw describeDatabaseFailure(config.database, error);
    }
    logger.info({ database: database.kind, installationId }, "database ready");

    let consoleHandler: ConsoleHandler | undefined;
    if (config.console.enabled) {
      consoleHandler = await createConsoleHandler(config.console.webDir ?? defaultWebDir());
      stack.push(() => consoleHandler?.close());
    }

    const system = createSystemService({
      getSystemInfo: () =>
        getSystemInfo({
          db: database.db,
          databaseKind: database.kind,
          version,
          startedAt,
          installationId,
          now,
        }),
    });
    const http = createHttpServer({
      logger,
      routes: createApiRoutes({ system }),
      interceptors: [createErrorInterceptor(logger)],
      readiness: async () => {
        await database.db.execute(sql`select 1`);
      },
      fallback: consoleHandler?.handle,
    });
    let address: AddressInfo;
    try {
      address = await http.listen(config.http.host, config.http.port);
    } catch (error) {
      throw describeListenFailure(config.http.host, config.http.port, error);
    }
    stack.push(() => http.close());

    return { address, url: config.publicUrl ?? urlOf(address), close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

function urlOf(address: AddressInfo): string {
  const unspecified = address.address === "0.0.0.0" || address.address === "::";
  const host = unspecified
    ? "localhost"
    : address.family === "IPv6"
      ? `[${address.address}]`
      : address.address;
  return `http://${host}:${address.port}`;
}
