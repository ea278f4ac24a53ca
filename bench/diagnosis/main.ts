// Diagnosis cost: (1) hour-of-week baselines (median/MAD per hour of week, three metrics, 30 days
// of hourly rollups) for N servers, plus a k-of-n anomaly scan of a 2-hour window of 1-minute
// points against each; (2) one full diagnosis (every analyzer, report) of one server with 30
// days of history; (3) top-1 accuracy on the fault table (server/src/domain/diagnosis/fault-scenarios.ts).
// Pure computation in this process: reading the rollups is one indexed range scan per server
// (measured by the API test, not here). Run with `npm run bench:diagnosis` (`-- 2000` for fewer servers).

import {
  buildBaseline,
  buildReport,
  FAULT_CASES,
  healthyEvidence,
  persistentAnomalies,
} from "@ocore/server/testing";
import { timeDiagnosisWithDatabase } from "./with-database.ts";

const servers = Number(process.argv[2] ?? 10_000);
const now = new Date("2026-12-07T12:00:00Z");
const template = healthyEvidence(now);
const metrics = [
  (p: (typeof template.history)[number]) => p.cpuPercent,
  (p: (typeof template.history)[number]) => (100 * p.memoryUsed) / p.memoryTotal,
  (p: (typeof template.history)[number]) => p.diskUsedPercent,
];

// Each server gets its own jittered copy so nothing is cached across servers.
function seriesFor(server: number, metric: number) {
  return template.history.map((p, i) => ({
    time: p.time,
    value: (metrics[metric] as (x: typeof p) => number)(p) + ((server * 31 + i * 7) % 11) / 10,
  }));
}
const recent = template.recent.map((p) => ({ time: p.time, value: p.cpuPercent }));

const cpuBefore = process.cpuUsage();
const heapBefore = process.memoryUsage().heapUsed;
const started = performance.now();
let windows = 0;
for (let s = 0; s < servers; s++) {
  for (let m = 0; m < metrics.length; m++) {
    const baseline = buildBaseline(seriesFor(s, m));
    if (m === 0)
      windows += persistentAnomalies(baseline, recent, { k: 3, n: 5, threshold: 4, minSpread: 5 }).length;
  }
}
const baselineMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const heapAfter = process.memoryUsage().heapUsed;

const fault = FAULT_CASES[0];
if (!fault) throw new Error("no fault cases");
const evidence = fault.build(now);
const runs = 20;
const t0 = performance.now();
for (let i = 0; i < runs; i++) buildReport(fault.question, evidence.window, [evidence]);
const reportMs = (performance.now() - t0) / runs;

let correct = 0;
const rows: string[] = [];
for (const c of FAULT_CASES) {
  const e = c.build(now);
  const top = buildReport(c.question, e.window, [e]).findings[0];
  const ok = top?.analyzer === c.expected;
  if (ok) correct++;
  rows.push(`| ${c.name} | ${c.expected} | ${top?.analyzer ?? "(none)"} | ${ok ? "yes" : "no"} |`);
}

console.log(
  `baselines: ${servers} servers × ${metrics.length} metrics × ${template.history.length} hourly points`,
);
console.log(
  `  wall ${Math.round(baselineMs)} ms, CPU ${Math.round((cpu.user + cpu.system) / 1000)} ms, ${(baselineMs / servers).toFixed(3)} ms/server, heap Δ ${Math.round((heapAfter - heapBefore) / 2 ** 20)} MiB, ${windows} anomaly windows`,
);
console.log(
  `one diagnosis (${evidence.history.length} hourly + ${evidence.recent.length} minute points + ${evidence.devices.length} device samples): ${reportMs.toFixed(1)} ms`,
);
console.log(
  `fault table top-1: ${correct}/${FAULT_CASES.length} (${Math.round((100 * correct) / FAULT_CASES.length)} %)`,
);
const withDb = await timeDiagnosisWithDatabase();
console.log(
  `one diagnosis with its reads (PGlite, 30 days hourly + 720 raw samples): median ${withDb.medianMs.toFixed(0)} ms, max ${withDb.maxMs.toFixed(0)} ms, top finding: ${withDb.top}`,
);
console.log("| case | expected | top finding | top-1 |\n|---|---|---|---|");
for (const row of rows) console.log(row);
