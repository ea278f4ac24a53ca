export const usage = `Usage: ocore-agent <command>

Commands:
  check-config   validate the configuration from the environment and print it
  version        print the agent's version
  help           show this help

Configuration comes from OCORE_AGENT_* environment variables (see config.example.env).
`;
