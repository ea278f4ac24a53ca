#!/bin/sh
# Joins this host to an oCore control server from the host itself: for hosts the server cannot
# reach (NAT, a firewall), so nothing connects in. Run as root, as the console shows it:
#
#   curl -sSL <server>/join/<secret> | sudo sh
#
# The server serves this file with the parameters below filled in (each value checked against a
# strict pattern and single-quoted; names and tags are never part of it). In order, it:
#   1. checks that the CA certificate below is the one the command's token pins, and that the
#      agent gateway proves it holds a certificate of that CA (TLS, before anything is trusted);
#   2. downloads the agent executable and the install files and checks each SHA-256;
#   3. runs facts.sh, the requirement checks of SSH onboarding, and prints the server's verdicts
#      (a failed requirement stops here, with nothing installed);
#   4. installs the agent with install-agent.sh (the hardened systemd unit, or the supervisor),
#      which enrolls with the single-use token;
#   5. waits until the server sees the agent online.
# Each step is reported to the server, so the console shows it as for SSH onboarding. Re-running
# with a new command on a joined host re-installs in place. Remove the agent with the uninstall
# command printed at the end.
#
# Exit codes: 0 joined; 2 usage (not root, template not filled in); 3 a tool is missing; 4 the
# server's identity could not be verified; 5 a download failed; 10 checksum mismatch; 20 a
# requirement failed; 21 the server refused a report; 30+ the install script's code plus 20 (11
# enrollment failed → 31, 12 the agent did not stay up → 32); 40 the agent did not come online.
set -eu

# BEGIN JOIN PARAMETERS
join_url=''
gateway=''
enrollment_token=''
ca_sha256=''
ca_pem=''
install_prefix=''
unit_name=''
agent_sha256=''
files=''
# END JOIN PARAMETERS

say() { printf 'ocore-join: %s\n' "$*"; }
die() {
  code=$1
  shift
  printf 'ocore-join: %s\n' "$*" >&2
  exit "$code"
}

[ -n "$join_url" ] ||
  die 2 "this is the template of the join script: create a join command in the console (Add server, join from the host) and run that"
[ "$(id -u)" -eq 0 ] || die 2 "run this as root (… | sudo sh): it installs a system service"
for tool in curl sha256sum base64 mktemp sed tr bash; do
  command -v "$tool" >/dev/null 2>&1 || die 3 "\"$tool\" is missing on this host; install it and run the command again"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/ocore-join.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# POSTs `body` to the server's `path` under the join URL; prints the answer. Fails on a refusal.
post() {
  printf '%s' "$2" | curl -sS --fail --max-time "${3:-30}" -X POST -H 'content-type: text/plain' \
    --data-binary @- "$join_url/$1"
}

# Reports a step to the server (best effort: the host goes on if the server does not answer).
report() {
  message=$(printf '%s' "$3" | tr '\r\n' '  ' | cut -c 1-2000)
  post report "step=$1
status=$2
message=$message
" >/dev/null 2>&1 || say "(could not report \"$1 $2\" to the server; going on)"
}

# --- 1. the server's identity ---------------------------------------------------------------
say "verifying the server: the CA pinned in this command, then the agent gateway $gateway"
report connect running "the host is verifying the server's CA and downloading the agent"
printf '%s\n' "$ca_pem" >"$work/ca.pem"
actual_ca=$(sed -e '/-----/d' "$work/ca.pem" | tr -d ' \r\n' | base64 -d | sha256sum | cut -d' ' -f1)
if [ "$actual_ca" != "$ca_sha256" ]; then
  report connect failed "the CA certificate in the join script does not match the pin of its token"
  die 4 "the CA certificate served with this script does not match the pin of its token: wrong server or a man in the middle. Nothing was installed."
fi
if ! curl -sS --max-time 15 --cacert "$work/ca.pem" -o /dev/null "https://$gateway/" 2>"$work/tls.err"; then
  report connect failed "the agent gateway $gateway did not prove it holds the pinned CA: $(cat "$work/tls.err")"
  die 4 "the agent gateway $gateway did not present a certificate of the pinned CA ($(cat "$work/tls.err")): wrong address, a firewall in the way, or a man in the middle. Nothing was installed."
fi

# --- 2. downloads, each checked against its SHA-256 -------------------------------------------
total=0
while read -r sum size name; do
  [ -n "$name" ] || continue
  if ! curl -sS --fail --max-time 600 -o "$work/$name" "$join_url/files/$name" 2>"$work/download.err"; then
    report connect failed "downloading $name failed: $(cat "$work/download.err")"
    die 5 "downloading $name from the server failed: $(cat "$work/download.err")"
  fi
  got=$(sha256sum "$work/$name" | cut -d' ' -f1)
  if [ "$got" != "$sum" ]; then
    report connect failed "$name failed its checksum on the host (expected $sum, got $got)"
    die 10 "$name failed its checksum (expected $sum, got $got): the download is corrupt or was tampered with. Nothing was installed."
  fi
  total=$((total + size))
done <<EOF
$files
EOF
report connect succeeded "the gateway $gateway proved the pinned CA; the host downloaded the agent and its install files ($total bytes, each SHA-256 verified)"
say "server verified; downloaded the agent ($total bytes, SHA-256 verified)"

# --- 3. requirements ------------------------------------------------------------------------
say "checking the requirements"
facts=$(sh "$work/facts.sh" --data-dir "$install_prefix") || die 20 "facts.sh failed on this host"
if ! verdicts=$(post facts "$facts" 60); then die 21 "the server did not accept the host's facts (see above)"; fi
printf '%s\n' "$verdicts" | sed -n 's/^verdict /  /p'
case "$verdicts" in
  *"OCORE_VERDICTS ok"*) ;;
  *) die 20 "a requirement is not met (see above); nothing was installed. Fix it, or accept it when you create a new join command, then run that." ;;
esac

# --- 4. install and enroll --------------------------------------------------------------------
previous_install=no
[ -f "$install_prefix/etc/install.conf" ] && previous_install=yes
report install running "installing the agent in $install_prefix"
umask 077
printf '%s' "$enrollment_token" >"$work/enrollment-token"
status=0
bash "$work/install-agent.sh" --prefix "$install_prefix" --binary "$work/ocore-agent" \
  --sha256 "$agent_sha256" --server "$gateway" --token-file "$work/enrollment-token" \
  --mode auto --unit-name "$unit_name" >"$work/install.log" 2>&1 || status=$?
sed 's/^/  /' "$work/install.log"
mode=$(sed -n 's/^OCORE_RESULT mode=\(systemd\|supervised\)$/\1/p' "$work/install.log")
if [ "$status" -ne 0 ] || [ -z "$mode" ]; then
  report install failed "the installer failed (exit $status): $(tail -n 5 "$work/install.log")"
  if [ "$previous_install" = no ]; then
    # Nothing half-installed: a first install that failed is removed again.
    bash "$work/uninstall-agent.sh" --prefix "$install_prefix" --unit-name "$unit_name" >/dev/null 2>&1 || true
  fi
  die $((20 + status)) "installing the agent failed (exit $status, see above)$([ "$previous_install" = no ] && echo '; the partial install was removed')"
fi
report install succeeded "agent installed in $install_prefix, running $([ "$mode" = systemd ] && echo "as the systemd service $unit_name.service" || echo "under the supervisor script (no systemd on this host)")"

# --- 5. online --------------------------------------------------------------------------------
say "waiting for the server to see the agent online"
if ! answer=$(post installed "mode=$mode" 200); then
  die 40 "the agent was installed but the server did not see it online: read journalctl -u $unit_name (or $install_prefix/log/agent.log)"
fi
printf '%s\n' "$answer" | sed -n 's/^message //p'
say "done. To remove the agent from this host: sudo $install_prefix/libexec/uninstall-agent.sh --prefix $install_prefix"
