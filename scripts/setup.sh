#!/usr/bin/env bash
# Installs what chaosbus needs on a Debian machine, skipping what is already there:
# redis-server, a Java 17+ runtime, Maven, kcat, PostgreSQL, Chromium and Prometheus (apt, the
# metrics tests scrape a running proxy with it); Node.js/npm
# only checked (the demo's Node-RED is installed on first use); then the project with its dev
# extras into a virtual environment: the active one ($VIRTUAL_ENV), else ./.venv, created
# here. Nothing is ever installed into the machine's own Python, so a package installed there
# by hand can never make this project look complete.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
command -v make >/dev/null 2>&1 || need_apt+=(make)
command -v kcat >/dev/null 2>&1 || need_apt+=(kcat)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v prometheus >/dev/null 2>&1 || need_apt+=(prometheus)

if ((${#need_apt[@]})); then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "setup: apt-get install ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

venv="${VIRTUAL_ENV:-$PWD/.venv}"
if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating the virtual environment $venv"
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -e ".[dev]"
echo "setup: done ($("$venv/bin/python" -m pip show chaosbus 2>/dev/null | grep ^Version), in $venv)"
