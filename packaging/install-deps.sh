#!/usr/bin/env bash
# install-deps.sh — installs what lagwatch needs to build and to run its tests on Debian 12:
# the compilers and CMake, the libraries DESIGN.md names (libcurl/OpenSSL, jansson, libyaml,
# libxml2, PCRE2, libmicrohttpd, zlib, cmocka) and the reference peers the tests talk to
# (Debian's prometheus for promtool, prometheus-alertmanager). Python's boto3/botocore/moto come
# with the machine image; if they are missing it says so and tries pip.
#
# Idempotent: when everything is present it prints nothing and exits 0. When something is
# missing and we are not root, it names the packages and exits 1 instead of failing half-way.
set -euo pipefail

packages=(
    gcc clang clang-format cmake make pkg-config
    libcurl4-openssl-dev libssl-dev libjansson-dev libyaml-dev libxml2-dev libpcre2-dev
    libmicrohttpd-dev libcmocka-dev zlib1g-dev
    prometheus prometheus-alertmanager
    curl ca-certificates procps
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            SUDO=sudo
        else
            echo "install-deps: these Debian packages are missing: ${missing[*]}" >&2
            echo "install-deps: run this script as root (or with sudo) to install them" >&2
            exit 1
        fi
    else
        SUDO=
    fi
    echo "install-deps: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >/dev/null
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

py=${LAGWATCH_PYTHON:-python3}
if ! "$py" -c 'import boto3, botocore, moto, flask' >/dev/null 2>&1; then
    echo "install-deps: $py lacks boto3/botocore/moto[server]; trying pip" >&2
    if ! "$py" -m pip install -q 'moto[server]' boto3 botocore >&2; then
        echo "install-deps: could not install moto[server] for $py; the integration tests need it" >&2
        exit 1
    fi
fi
