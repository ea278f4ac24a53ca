import {
  type CommandEvent,
  type CommandEvents,
  CommandOutcome,
  OutputStream,
} from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import { isUuid } from "../../platform/db/is-uuid.js";
import { AppError } from "../../platform/errors/app-error.js";

/** What one CommandEvent may carry; beyond it the stream is refused. */
export const COMMAND_EVENT_LIMITS = {
  chunkBytes: 64 * 1024,
  errorCode: 64,
  errorMessage: 4096,
  resultBytes: 1024 * 1024,
  typeUrl: 256,
  /** Events in one CommandEvents message. */
  batchEvents: 1024,
} as const;

function invalid(field: string, problem: string): never {
  throw AppError.invalid(field, problem);
}

/**
 * Checks the shape of a CommandEvent (that its command belongs to the stream's server and that
 * its chunks come in order is the runner's part). Returns the event for chaining.
 */
export function validateCommandEvent(event: CommandEvent, at = "commandEvent"): CommandEvent {
  if (!isUuid(event.commandId)) invalid(`${at}.commandId`, "is not a command id (a UUID the server sent)");
  const step = event.event;
  switch (step.case) {
    case "started":
      return event;
    case "output": {
      const { sequence, stream, data } = step.value;
      if (sequence < 1n || sequence > BigInt(Number.MAX_SAFE_INTEGER))
        invalid(`${at}.output.sequence`, "must start at 1");
      if (!(stream in OutputStream) || stream === OutputStream.UNSPECIFIED) {
        invalid(`${at}.output.stream`, "must be stdout, stderr or progress");
      }
      if (data.byteLength > COMMAND_EVENT_LIMITS.chunkBytes) {
        invalid(
          `${at}.output.data`,
          `is ${data.byteLength} bytes; chunks are at most ${COMMAND_EVENT_LIMITS.chunkBytes} bytes (split larger output)`,
        );
      }
      return event;
    }
    case "finished": {
      const finished = step.value;
      if (!(finished.outcome in CommandOutcome) || finished.outcome === CommandOutcome.UNSPECIFIED) {
        invalid(`${at}.finished.outcome`, "must be succeeded, failed, cancelled or timed_out");
      }
      if (finished.errorCode.length > COMMAND_EVENT_LIMITS.errorCode) {
        invalid(`${at}.finished.errorCode`, `is longer than ${COMMAND_EVENT_LIMITS.errorCode} characters`);
      }
      if (finished.errorMessage.length > COMMAND_EVENT_LIMITS.errorMessage) {
        invalid(
          `${at}.finished.errorMessage`,
          `is longer than ${COMMAND_EVENT_LIMITS.errorMessage} characters`,
        );
      }
      if (finished.result) {
        if (
          finished.result.typeUrl.length > COMMAND_EVENT_LIMITS.typeUrl ||
          !finished.result.typeUrl.includes("/")
        ) {
          invalid(`${at}.finished.result`, "has no valid type URL");
        }
        if (finished.result.value.byteLength > COMMAND_EVENT_LIMITS.resultBytes) {
          invalid(`${at}.finished.result`, `is larger than ${COMMAND_EVENT_LIMITS.resultBytes} bytes`);
        }
      }
      return event;
    }
    default:
      return invalid(`${at}.event`, "is not set (started, output or finished)");
  }
}

/** Checks a CommandEvents message: 1 to 1,024 events, each as validateCommandEvent checks it. */
export function validateCommandEvents(batch: CommandEvents): CommandEvent[] {
  const { events } = batch;
  if (events.length === 0)
    throw AppError.invalid("commandEvents.events", "is empty; send at least one event");
  if (events.length > COMMAND_EVENT_LIMITS.batchEvents) {
    throw AppError.invalid(
      "commandEvents.events",
      `holds ${events.length} events; a message carries at most ${COMMAND_EVENT_LIMITS.batchEvents} (send the rest in another)`,
    );
  }
  for (const [index, event] of events.entries())
    validateCommandEvent(event, `commandEvents.events[${index}]`);
  return events;
}
