#!/bin/sh
# Runs inside the debootstrapped Debian root (chroot) while the test image is built: adds the
# SSH user the onboarding test logs in as (passwordless sudo, as oCore requires; its password is
# set when a container starts), and lets sshd accept passwords.
#
#   configure-rootfs.sh USER
set -eu

[ $# -eq 1 ] || { echo "Usage: configure-rootfs.sh USER" >&2; exit 2; }
user=$1

useradd --create-home --shell /bin/bash "$user"
printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$user" >"/etc/sudoers.d/$user"
chmod 0440 "/etc/sudoers.d/$user"

mkdir -p /etc/ssh/sshd_config.d
printf 'PasswordAuthentication yes\nKbdInteractiveAuthentication no\nUseDNS no\n' >/etc/ssh/sshd_config.d/ocore-test.conf
systemctl enable ssh.service >/dev/null 2>&1 || true
# Host keys are made per container at its first boot (a fresh key per test host).
rm -f /etc/ssh/ssh_host_*
mkdir -p /etc/systemd/system/ssh.service.d
# The unit's own ExecStartPre (sshd -t) needs the keys, so the list is replaced, keygen first.
printf '[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n' \
  >/etc/systemd/system/ssh.service.d/10-host-keys.conf
# Units that make no sense in a container.
for unit in getty@tty1.service systemd-timesyncd.service; do systemctl mask "$unit" >/dev/null 2>&1 || true; done
echo "configured $user"
