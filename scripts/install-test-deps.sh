#!/usr/bin/env bash
# Installs what tests/remote.rs runs for real: Debian's docker-registry (the
# distribution project's registry), skopeo (loads fixtures into it), podman
# (the engine), htpasswd (Basic auth) and openssl (the test CA, the token
# issuer's signatures). Idempotent: `apt-get update` only when something is
# missing. Prints why and exits 0 when it cannot install (not root, no apt):
# the tests that need a missing tool then say they were skipped and why.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have docker-registry || need+=(docker-registry)
have skopeo || need+=(skopeo)
have podman || need+=(podman)
have htpasswd || need+=(apache2-utils)
have openssl || need+=(openssl)
have curl || need+=(curl)

if [ ${#need[@]} -eq 0 ]; then
    echo "install-test-deps: all present"
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! have apt-get; then
    echo "install-test-deps: cannot install ${need[*]} (needs root and apt-get); the tests that need them will be skipped"
    exit 0
fi
echo "install-test-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -qq || ! apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; then
    echo "install-test-deps: apt-get could not install ${need[*]}; the tests that need them will be skipped"
    exit 0
fi
echo "install-test-deps: done"
