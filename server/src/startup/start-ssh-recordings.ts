import { startSearchIndexer } from "../domain/ssh-sessions/index-search-text.js";
import { createLiveSessions, type LiveSessions } from "../domain/ssh-sessions/live-sessions.js";
import { startRecordingsMaintenance } from "../domain/ssh-sessions/recordings-maintenance.js";
import type { RecordingSettings } from "../domain/ssh-sessions/session-recorder.js";
import type { Config } from "../platform/config/config.js";
import type { Db } from "../platform/db/database.js";
import { componentLogger, type Logger } from "../platform/logging/logger.js";

export interface SshRecordings {
  /** The sessions open in this process: the SSH gateway registers them, the API lists and ends them. */
  readonly liveSessions: LiveSessions;
  /** What the gateway passes to startSessionRecording. */
  readonly settings: RecordingSettings;
  stop(): Promise<void>;
}

/**
 * Session recordings: the live registry, the recorders' settings, retention and the
 * interrupted-session sweep, and the search indexer for chunks written in batches.
 */
export function startSshRecordings(deps: {
  readonly config: Pick<Config, "sshRecordings">;
  readonly db: Db;
  readonly logger: Logger;
  readonly now: () => Date;
}): SshRecordings {
  const logger = componentLogger(deps.logger, "ssh-recordings");
  const maintenance = startRecordingsMaintenance({
    db: deps.db,
    logger,
    retentionDays: deps.config.sshRecordings.retentionDays,
    now: deps.now,
  });
  const indexer = startSearchIndexer({ db: deps.db, logger });
  return {
    liveSessions: createLiveSessions(),
    settings: {
      recordInput: deps.config.sshRecordings.recordInput,
      maxBytes: deps.config.sshRecordings.maxBytes,
      logger,
    },
    stop: async () => {
      await Promise.all([maintenance.stop(), indexer.stop()]);
    },
  };
}
