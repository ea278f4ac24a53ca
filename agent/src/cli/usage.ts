export const usage = `Usage: ocore-agent <command>

Commands:
  enroll --server <host:port> --token <token> | --token-file <file>
                 enroll this host with a one-time token from the oCore console: checks the
                 server's CA against the token, stores key, certificate and CA (0600)
  run            connect to the server and send metrics (the systemd service runs this)
  check-config   validate the configuration from the environment and print it
  version        print the agent's version
  help           show this help

Configuration comes from OCORE_AGENT_* environment variables (see config.example.env).
`;
