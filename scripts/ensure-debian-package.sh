#!/bin/sh
# Usage: scripts/ensure-debian-package.sh <executable> <package> <what it is for>
# Installs Debian's <package> (without its Recommends) unless <executable> is already there:
# the tools `make test` needs from the machine (chromium for the browser tests, docker-compose
# for the compose file checks). As root, or through sudo.
set -eu
bin=$1 package=$2 purpose=$3
[ -x "$bin" ] && exit 0
echo "Installing Debian's $package for $purpose…"
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
install() { $sudo apt-get install -y -q --no-install-recommends "$package" >/dev/null; }
install || { $sudo apt-get update -q >/dev/null && install; } || {
  echo "Could not install $package: install it (apt-get install $package), or point" \
    "the Makefile at another $bin." >&2
  exit 1
}
