#!/usr/bin/env bash
# install-deps.sh — install the Debian packages barge builds, tests and benchmarks with.
# Runs apt-get update first.  Needs root (or sudo).  Safe to run again.
set -euo pipefail

packages=(
	build-essential cmake pkg-config clang libclang-rt-14-dev
	libmariadb-dev libyaml-dev libpcre2-dev libcurl4-openssl-dev libssl-dev libzstd-dev
	zlib1g-dev libjansson-dev
	mariadb-server mariadb-client openssl python3 python3-jsonschema python3-yaml valgrind procps
)
if [ "${1:-}" = "--bench" ]; then
	packages+=(sysbench mydumper percona-toolkit time)
fi

sudo=()
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || { echo "install-deps.sh: run as root or install sudo" >&2; exit 1; }
	sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${packages[@]}"
