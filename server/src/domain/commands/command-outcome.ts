import { type DescMessage, fromBinary, type MessageShape } from "@bufbuild/protobuf";
import { AppError } from "../../platform/errors/app-error.js";
import type { CommandRow, FinalState } from "./command-records.js";
import type { CommandOutcome } from "./command-runner.js";

/** What `wait` returns for an ended command, its result decoded as `output`. */
export function outcomeOf<O extends DescMessage>(row: CommandRow, output: O): CommandOutcome<O> {
  let result: MessageShape<O> | undefined;
  if (row.state === "succeeded" && row.result) {
    if (row.resultType !== output.typeName) {
      throw new AppError(
        "internal",
        `command ${row.id} returned a ${row.resultType ?? "untyped"} result where ${output.typeName} was expected; the agent and server versions may not match`,
      );
    }
    result = fromBinary(output, row.result);
  }
  return {
    commandId: row.id,
    state: row.state as FinalState,
    result,
    exitCode: row.exitCode,
    errorCode: row.errorCode,
    errorMessage: row.errorMessage,
  };
}
