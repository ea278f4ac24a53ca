/**
 * What an agent reports about its host: the fields of `ocore.agent.v1.Hello` besides the agent's
 * version, as plain JSON values. The agent reads them, the server stores them as they are (the
 * `servers.facts` jsonb column) and answers them as `ocore.api.v1.HostFacts`.
 */
export interface HostFacts {
  readonly hostname: string;
  /** os-release(5) `ID` ("debian", "ubuntu"; "linux" when the host has no os-release). */
  readonly osId: string;
  /** os-release(5) `VERSION_ID`, "" when absent. */
  readonly osVersion: string;
  readonly kernel: string;
  readonly architecture: string;
  readonly cpuCores: number;
  readonly memoryTotalBytes: number;
  /** When the host booted (ISO 8601), null when unknown. */
  readonly bootedAt: string | null;
}
