#!/bin/sh
# install-deps.sh - install the Debian packages nlp needs to build and test.
# Runs apt-get as root (through sudo when not root).  Safe to re-run.
set -e
PKGS="gcc make autoconf automake libtool pkg-config python3 \
libcurl4-openssl-dev libcjson-dev libpcre2-dev libutf8proc-dev libmicrohttpd-dev check parallel \
groff-base mandoc chromium"
if [ "$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends $PKGS
