import {
  type AnalyzerResult,
  type Finding,
  gib,
  round,
  type ServerEvidence,
  windowText,
} from "../diagnosis-types.js";

const NAME = "container_restarts";
const MIN_RESTARTS = 3;
const OOM_SHARE = 0.95;

interface Track {
  restarts: number;
  oomHints: number;
  first?: Date;
  last?: Date;
  previousState?: string;
  peakMemory: number;
  limit: number;
}

/**
 * Container restart loops and OOM kills from the per-container states of the samples: a
 * container seen restarting (or leaving running and coming back) again and again, and whether it
 * sat at its memory limit just before (an OOM kill).
 */
export function analyzeContainerRestarts(input: ServerEvidence): AnalyzerResult {
  const server = input.server;
  const tracks = new Map<string, Track>();
  let sawContainers = false;
  for (const point of input.devices) {
    for (const [, name, state, , memory, limit] of point.detail.containers ?? []) {
      sawContainers = true;
      const track = tracks.get(name) ?? { restarts: 0, oomHints: 0, peakMemory: 0, limit: 0 };
      const restarted =
        state === "restarting"
          ? track.previousState !== "restarting"
          : state === "running" &&
            track.previousState !== undefined &&
            track.previousState !== "running" &&
            track.previousState !== "restarting";
      if (restarted) {
        track.restarts++;
        track.first ??= point.time;
        track.last = point.time;
      }
      if (limit > 0 && memory >= OOM_SHARE * limit) track.oomHints++;
      track.peakMemory = Math.max(track.peakMemory, memory);
      track.limit = Math.max(track.limit, limit);
      track.previousState = state;
      tracks.set(name, track);
    }
  }
  if (!sawContainers) {
    return {
      findings: [],
      steps: [
        {
          analyzer: NAME,
          serverName: server.name,
          checked: "container states in the window",
          showed: "no containers reported",
          outcome: "no_data",
        },
      ],
    };
  }
  const findings: Finding[] = [];
  for (const [name, track] of tracks) {
    if (track.restarts < MIN_RESTARTS || !track.first || !track.last) continue;
    const window = { from: track.first, to: track.last };
    const oom = track.oomHints > 0;
    findings.push({
      analyzer: NAME,
      serverId: server.id,
      serverName: server.name,
      title: oom ? `Container ${name} is OOM-killed in a loop` : `Container ${name} is crash-looping`,
      likelihood: Math.min(0.95, 0.6 + track.restarts / 40 + (oom ? 0.1 : 0)),
      window,
      summary: `${name} restarted ${track.restarts} times from ${windowText(window)}${oom ? `, at its memory limit of ${gib(track.limit)} before` : ""}.`,
      evidence: [
        {
          kind: "fact",
          label: `container ${name} restarts`,
          window,
          max: track.restarts,
          text: `${track.restarts} restarts between ${windowText(window)}`,
        },
        ...(oom
          ? [
              {
                kind: "metric" as const,
                label: `container ${name} memory`,
                max: track.peakMemory,
                unit: "bytes",
                text: `memory up to ${gib(track.peakMemory)} of a ${gib(track.limit)} limit (${round((100 * track.peakMemory) / track.limit)} %)`,
              },
            ]
          : []),
      ],
      remediation: [
        {
          priority: 1,
          title: `Read why ${name} exits`,
          templateKey: "builtin.collect-logs",
          parameters: { unit: "docker.service", since: "-1h" },
          note: "Read-only; the container's own output is in its instance log.",
        },
        ...(oom
          ? [
              {
                priority: 2,
                title: "Raise the container's memory limit or fix its usage",
                note: "Edit the instance's memory limit in the console; no template changes limits.",
              },
            ]
          : []),
      ],
      alertIds: input.alerts
        .filter((a) => /container|restart/i.test(a.ruleKey + a.ruleName))
        .map((a) => a.id),
    });
  }
  const steps = [
    {
      analyzer: NAME,
      serverName: server.name,
      checked: `restarts of ${tracks.size} containers (≥ ${MIN_RESTARTS} is a loop)`,
      showed:
        findings.length > 0
          ? findings.map((f) => f.title).join("; ")
          : `most restarts: ${Math.max(...[...tracks.values()].map((t) => t.restarts))}`,
      outcome: findings.length > 0 ? ("finding" as const) : ("ruled_out" as const),
    },
  ];
  return { findings, steps };
}
