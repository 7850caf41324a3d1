#!/usr/bin/env bash
# Installs what chaosbus needs on a Debian machine, skipping what is already there:
# redis-server, a Java 17+ runtime and Maven (apt), Node.js/npm only checked (the demo's
# Node-RED is installed on first use), and the project with its dev extras (pip).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
command -v make >/dev/null 2>&1 || need_apt+=(make)

if ((${#need_apt[@]})); then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "setup: apt-get install ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

python3 -m pip install -q --disable-pip-version-check -e ".[dev]"
echo "setup: done ($(python3 -m pip show chaosbus 2>/dev/null | grep ^Version))"
