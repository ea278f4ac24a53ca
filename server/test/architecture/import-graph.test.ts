import { fileURLToPath } from "node:url";
import { cruise, type ICruiseResult, type IFlattenedRuleSet } from "dependency-cruiser";
import { describe, expect, it } from "vitest";

/**
 * The server's import graph, held against the rules ARCHITECTURE.md states: the domain graph runs one way
 * (no two folders of server/src import each other, directly or round a longer loop; no file circles), and
 * domain folders never reach the transport at the edge (Connect handlers, the gRPC gateway, HTTP, startup
 * wiring, the CLI) nor the transport libraries. Test files are left out: a test may import what it needs.
 */

const serverRoot = fileURLToPath(new URL("../..", import.meta.url));

/**
 * server/src is grouped by layer: `transports/` (Connect API, agent gateway, HTTP) and the wiring
 * (`startup/`, `cli/`) are the edge; `domain/` and `platform/` are everything under it.
 */
const edgeFolders = ["transports", "startup", "cli"] as const;
const edge = `^src/(${edgeFolders.join("|")})/`;
const layered = ["transports", "domain", "platform"] as const;

const ruleSet: IFlattenedRuleSet = {
  forbidden: [
    {
      name: "no-file-circle",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "domain-imports-transport",
      severity: "error",
      from: { path: "^src/(domain|platform)/" },
      to: { path: [edge, "node_modules/(@connectrpc|@grpc|next)/"] },
    },
  ],
};

async function cruiseServer(): Promise<ICruiseResult> {
  const output = await cruise(
    ["src"],
    {
      baseDir: serverRoot,
      ruleSet,
      validate: true,
      exclude: { path: "\\.test\\.ts$" },
      doNotFollow: { path: "node_modules" },
      tsPreCompilationDeps: true,
      tsConfig: { fileName: "tsconfig.json" },
      skipAnalysisNotInRules: false,
    },
    undefined,
    undefined,
  );
  if (typeof output.output === "string") throw new Error("dependency-cruiser returned text, not a result");
  return output.output;
}

/**
 * The folder of server/src a module lives in (`domain/servers`, `startup`), or undefined for
 * files at src/ itself and outside it.
 */
function topFolder(source: string): string | undefined {
  const match = /^src\/([^/]+)\/(?:([^/]+)\/)?/.exec(source);
  if (!match?.[1]) return undefined;
  if ((layered as readonly string[]).includes(match[1]))
    return match[2] ? `${match[1]}/${match[2]}` : undefined;
  return match[1];
}

/** Strongly connected groups of more than one folder (Tarjan), each sorted. */
function folderCircles(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  let next = 0;
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const to of edges.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(to) ?? 0));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node) ?? 0, index.get(to) ?? 0));
      }
    }
    if (low.get(node) === index.get(node)) {
      const group: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop();
        if (member === undefined) break;
        onStack.delete(member);
        group.push(member);
      } while (member !== node);
      if (group.length > 1) groups.push(group.sort());
    }
  };
  for (const node of edges.keys()) if (!index.has(node)) visit(node);
  return groups;
}

describe("server import graph", () => {
  it("has no folder circle, no file circle, and no domain folder importing the transport", async () => {
    const result = await cruiseServer();
    const edges = new Map<string, Set<string>>();
    const why = new Map<string, string>();
    for (const module of result.modules) {
      const from = topFolder(module.source);
      if (from === undefined) continue;
      for (const dependency of module.dependencies) {
        const to = topFolder(dependency.resolved);
        if (to === undefined || to === from) continue;
        if (!edges.has(from)) edges.set(from, new Set());
        edges.get(from)?.add(to);
        if (!why.has(`${from}>${to}`)) why.set(`${from}>${to}`, `${module.source} -> ${dependency.resolved}`);
      }
    }
    const circles = folderCircles(edges).map((group) => {
      const ties = [...why].filter(([pair]) => {
        const [a, b] = pair.split(">");
        return group.includes(a ?? "") && group.includes(b ?? "");
      });
      return `${group.join(" ⇄ ")}: ${ties.map(([, tie]) => tie).join("; ")}`;
    });
    const violations = result.summary.violations.map(
      (violation) =>
        `${violation.rule.name}: ${violation.from} -> ${violation.to}${violation.cycle ? ` (circle: ${violation.cycle.map((step) => step.name).join(" -> ")})` : ""}`,
    );
    expect(result.summary.totalCruised).toBeGreaterThan(100);
    expect({ folderCircles: circles, violations }).toEqual({ folderCircles: [], violations: [] });
  });

  it("finds a circle of folders round a longer loop", () => {
    const edges = new Map([
      ["a", new Set(["b"])],
      ["b", new Set(["c"])],
      ["c", new Set(["a"])],
      ["d", new Set(["a"])],
    ]);
    expect(folderCircles(edges)).toEqual([["a", "b", "c"]]);
  });
});
