import type { TemplateDefinition, TemplateParameter } from "./template-definition.js";

/**
 * The built-in template library for oCore's hosts (Debian/Ubuntu, Docker, Odoo instances).
 * Every value reaches the scripts as an argument or an OCORE_PARAM_* variable, always quoted.
 * Each script is covered by builtin-library.test.ts, which runs it against stub tools.
 */

const param = (
  p: Partial<TemplateParameter> & Pick<TemplateParameter, "name" | "type">,
): TemplateParameter => ({
  description: "",
  required: false,
  defaultValue: "",
  pattern: "",
  allowedValues: [],
  min: 0,
  max: 0,
  listSource: "",
  confirm: false,
  ...p,
});

const base = {
  scope: "",
  examples: [],
  argv: [],
  env: {},
  memoryMaxMb: 256,
  cpuQuotaPercent: 100,
  tasksMax: 64,
  writePaths: [],
} satisfies Partial<TemplateDefinition>;

export const BUILTIN_TEMPLATES: ReadonlyArray<{
  readonly key: string;
  readonly definition: TemplateDefinition;
}> = [
  {
    key: "builtin.disk-usage",
    definition: {
      ...base,
      name: "Disk usage report for {server_name}",
      type: "diagnostic",
      description: "Lists every real filesystem's size and use, and flags those used above a threshold.",
      examples: [
        {
          title: "Flag filesystems above 80 %",
          parameters: { warn_percent: "80" },
          note: "Read-only; safe anywhere.",
        },
      ],
      interpreter: "bash",
      script: [
        "set -euo pipefail",
        'warn="$OCORE_PARAM_WARN_PERCENT"',
        "df -hPT -x tmpfs -x devtmpfs -x overlay -x squashfs",
        "echo",
        'df -PT -x tmpfs -x devtmpfs -x overlay -x squashfs | awk -v warn="$warn" \'NR > 1 { use = $6; sub(/%/, "", use); if (use + 0 >= warn + 0) { print "WARNING: " $7 " is " use "% full"; over = 1 } } END { if (!over) print "no filesystem above " warn "%" }\'',
      ].join("\n"),
      runAs: "nobody",
      timeoutSeconds: 60,
      parameters: [
        param({
          name: "warn_percent",
          type: "integer",
          description: "Flag filesystems at or above this use",
          defaultValue: "85",
          min: 1,
          max: 99,
        }),
      ],
    },
  },
  {
    key: "builtin.docker-prune",
    definition: {
      ...base,
      name: "Docker prune on {server_name}",
      type: "maintenance",
      description:
        "Removes stopped containers, unused images or everything unused. Volumes only when asked: they may hold data. Asks for confirmation.",
      examples: [
        {
          title: "Remove dangling and unused images",
          parameters: { what: "images", confirm: "true" },
          note: "Running containers keep their images.",
        },
      ],
      interpreter: "bash",
      script: [
        "set -euo pipefail",
        'case "$OCORE_PARAM_WHAT" in',
        "  containers) docker container prune --force ;;",
        "  images) docker image prune --all --force ;;",
        '  all) if [ "$OCORE_PARAM_VOLUMES" = true ]; then docker system prune --all --volumes --force; else docker system prune --all --force; fi ;;',
        "esac",
        "docker system df",
      ].join("\n"),
      runAs: "root",
      timeoutSeconds: 1800,
      memoryMaxMb: 512,
      parameters: [
        param({
          name: "what",
          type: "enum",
          allowedValues: ["containers", "images", "all"],
          defaultValue: "images",
          description: "What to remove",
        }),
        param({
          name: "volumes",
          type: "boolean",
          defaultValue: "false",
          description: "With all: also unused volumes (data!)",
        }),
        param({
          name: "confirm",
          type: "boolean",
          confirm: true,
          description: "I understand this deletes Docker data",
        }),
      ],
    },
  },
  {
    key: "builtin.odoo-module-update",
    definition: {
      ...base,
      name: "Update Odoo modules of {instance} on {server_name}",
      type: "deployment",
      description:
        "Runs `odoo -u <modules> --stop-after-init` inside the instance's Odoo container, then restarts the container so the running server loads the new code.",
      examples: [
        {
          title: "Update sale and stock",
          parameters: { instance: "shop", modules: "sale,stock" },
          note: "Take a backup first.",
        },
      ],
      interpreter: "bash",
      script: [
        "set -euo pipefail",
        'container="ocore-$1-odoo"',
        'docker exec "$container" odoo -c /etc/odoo/odoo.conf -d odoo -u "$2" --stop-after-init --no-http',
        'if [ "$OCORE_PARAM_RESTART" = true ]; then docker restart "$container" >/dev/null; echo "restarted $container"; fi',
      ].join("\n"),
      argv: ["{instance}", "{modules}"],
      runAs: "root",
      timeoutSeconds: 3600,
      memoryMaxMb: 512,
      parameters: [
        param({
          name: "instance",
          type: "list",
          listSource: "instances",
          required: true,
          description: "The Odoo instance",
        }),
        param({
          name: "modules",
          type: "string",
          required: true,
          pattern: "[a-z0-9_]+(,[a-z0-9_]+){0,49}",
          description: "Comma-separated module names",
        }),
        param({
          name: "restart",
          type: "boolean",
          defaultValue: "true",
          description: "Restart the Odoo container afterwards",
        }),
      ],
    },
  },
  {
    key: "builtin.restart-service",
    definition: {
      ...base,
      name: "Restart {service} on {server_name}",
      type: "maintenance",
      description: "Restarts one systemd unit and shows whether it came back active.",
      examples: [
        {
          title: "Restart Docker",
          parameters: { service: "docker.service" },
          note: "Containers with a restart policy come back.",
        },
      ],
      interpreter: "bash",
      script: ['systemctl restart -- "$1"', 'systemctl is-active -- "$1"'].join("\n"),
      argv: ["{service}"],
      runAs: "root",
      timeoutSeconds: 300,
      parameters: [
        param({
          name: "service",
          type: "string",
          required: true,
          pattern: "[A-Za-z0-9][A-Za-z0-9@._-]{0,127}",
          description: "The unit, e.g. nginx.service",
        }),
      ],
    },
  },
  {
    key: "builtin.collect-logs",
    definition: {
      ...base,
      name: "Logs of {unit} on {server_name}",
      type: "diagnostic",
      description:
        "Prints the journal of one unit (or the whole journal) for a time window, bounded in lines.",
      examples: [
        {
          title: "The agent's last hour",
          parameters: { unit: "ocore-agent.service", since: "1h", lines: "500" },
          note: "",
        },
      ],
      interpreter: "bash",
      script: [
        "set -euo pipefail",
        'args=(--no-pager --output=short-iso --since="-$OCORE_PARAM_SINCE" --lines="$OCORE_PARAM_LINES")',
        'if [ -n "$1" ]; then args+=(--unit="$1"); fi',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: bash array expansion, not a JS template
        'journalctl "${args[@]}"',
      ].join("\n"),
      argv: ["{unit}"],
      runAs: "root",
      timeoutSeconds: 120,
      parameters: [
        param({
          name: "unit",
          type: "string",
          pattern: "[A-Za-z0-9@._-]{0,128}",
          description: "The unit (empty: everything)",
        }),
        param({
          name: "since",
          type: "enum",
          allowedValues: ["15min", "1h", "6h", "24h", "7d"],
          defaultValue: "1h",
          description: "How far back",
        }),
        param({
          name: "lines",
          type: "integer",
          min: 1,
          max: 10_000,
          defaultValue: "500",
          description: "At most this many lines",
        }),
      ],
    },
  },
  {
    key: "builtin.debian-updates",
    definition: {
      ...base,
      name: "Debian package updates on {server_name}",
      type: "maintenance",
      description:
        "Lists upgradable packages, or installs them (apt-get upgrade, keeping changed config files). Refuses on hosts that are not Debian or Ubuntu.",
      examples: [
        {
          title: "What would be upgraded",
          parameters: { mode: "list", confirm: "false" },
          note: "Changes nothing but apt's lists.",
        },
      ],
      interpreter: "bash",
      script: [
        "set -euo pipefail",
        'case "$OCORE_OS_ID" in debian|ubuntu) ;; *) echo "not a Debian or Ubuntu host ($OCORE_OS_ID)" >&2; exit 3 ;; esac',
        "export DEBIAN_FRONTEND=noninteractive",
        "apt-get update -qq",
        'if [ "$OCORE_PARAM_MODE" = list ]; then apt-get -s upgrade | grep "^Inst" || echo "nothing to upgrade"; exit 0; fi',
        'if [ "$OCORE_PARAM_CONFIRM" != true ]; then echo "upgrade needs confirm=true" >&2; exit 2; fi',
        "apt-get -y -o Dpkg::Options::=--force-confold -o Dpkg::Options::=--force-confdef upgrade",
      ].join("\n"),
      runAs: "root",
      timeoutSeconds: 3600,
      memoryMaxMb: 1024,
      tasksMax: 256,
      writePaths: ["/var", "/usr", "/etc", "/boot", "/opt"],
      parameters: [
        param({
          name: "mode",
          type: "enum",
          allowedValues: ["list", "upgrade"],
          defaultValue: "list",
          description: "List or install the updates",
        }),
        param({
          name: "confirm",
          type: "boolean",
          defaultValue: "false",
          description: "Required (true) to upgrade",
        }),
      ],
    },
  },
];
