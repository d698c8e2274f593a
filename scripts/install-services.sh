#!/usr/bin/env bash
# Installs the database servers the tests run for real (PostgreSQL and Redis) from
# Debian's packages, only when their binaries are missing. Safe to run again: with
# everything present it changes nothing and does not touch the network.
set -euo pipefail

missing=()
if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' > /dev/null; then
  missing+=(postgresql)
fi
if ! command -v redis-server > /dev/null 2>&1 && [[ ! -x /usr/bin/redis-server ]]; then
  missing+=(redis-server)
fi
# nginx, for the load-balancer test of deploy/nginx/default.conf in front of two replicas.
if [[ ! -x /usr/sbin/nginx ]]; then
  missing+=(nginx-light)
fi
# Debian's Chromium, for the website widget's real-browser test (driven by playwright-core,
# which never downloads a browser of its own).
if [[ ! -x /usr/bin/chromium ]]; then
  missing+=(chromium)
fi

if ((${#missing[@]} == 0)); then
  echo "PostgreSQL, Redis, nginx and Chromium are already installed."
  exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo > /dev/null 2>&1 || { echo "Installing ${missing[*]} needs root or sudo." >&2; exit 1; }
  sudo=(sudo)
fi
apt_get=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq -o Dpkg::Use-Pty=0)

echo "Installing ${missing[*]} ..."
"${apt_get[@]}" update
"${apt_get[@]}" install -y --no-install-recommends "${missing[@]}" > /dev/null
echo "Installed ${missing[*]}."
