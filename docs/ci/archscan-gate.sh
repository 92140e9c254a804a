#!/bin/sh
# archscan as a CI gate, for any runner with a POSIX shell, curl, tar and
# sha256sum on x86_64 Linux (Jenkins, Buildkite, Drone, a Makefile, a git hook).
#
#   docker save myapp:ci -o image.tar
#   sh archscan-gate.sh image.tar linux/amd64
#
# Arguments: the image archive (any format archscan reads; a file, since it is read twice) and
# the platform you deploy to (default linux/amd64). Environment:
#   ARCHSCAN_VERSION      release to fetch when archscan is not on PATH (0.1.0)
#   ARCHSCAN_RELEASE_URL  where releases are (https://github.com/OWNER/archscan/releases/download)
#   ARCHSCAN_FAIL_ON      error (default): fail on `fail`; warning: also on `warn`; never
#   ARCHSCAN_SARIF        SARIF report to write (archscan.sarif), for your code-scanning upload
#
# Exit code: archscan's. 0: every image runs on the platform; 1: an image fails
# (or warns, with ARCHSCAN_FAIL_ON=warning); 2: the archive could not be read.
set -eu

input="${1:?usage: archscan-gate.sh IMAGE.tar [PLATFORM]}"
platform="${2:-linux/amd64}"
version="${ARCHSCAN_VERSION:-0.1.0}"
base="${ARCHSCAN_RELEASE_URL:-https://github.com/OWNER/archscan/releases/download}"
fail_on="${ARCHSCAN_FAIL_ON:-error}"
sarif="${ARCHSCAN_SARIF:-archscan.sarif}"

# Fetch the static binary once per machine, checked against the release's SHA256SUMS.
if ! command -v archscan >/dev/null 2>&1; then
    pkg="archscan-$version-x86_64-unknown-linux-gnu"
    dir="${TMPDIR:-/tmp}/archscan-$version"
    if [ ! -x "$dir/$pkg/archscan" ]; then
        mkdir -p "$dir"
        curl -fsSL -o "$dir/$pkg.tar.gz" "$base/v$version/$pkg.tar.gz"
        curl -fsSL -o "$dir/SHA256SUMS" "$base/v$version/SHA256SUMS"
        (cd "$dir" && grep " $pkg.tar.gz\$" SHA256SUMS | sha256sum -c -)
        tar -xzf "$dir/$pkg.tar.gz" -C "$dir"
    fi
    PATH="$dir/$pkg:$PATH"
fi
archscan --version

# The report in the log, then the gate: SARIF for code scanning, and the exit code.
archscan --platform "$platform" --fail-on never "$input" || true
status=0
archscan --platform "$platform" --fail-on "$fail_on" --format sarif -o "$sarif" "$input" || status=$?
case "$status" in
    0) echo "archscan: $input runs on $platform" ;;
    1) echo "archscan: $input does not pass on $platform (--fail-on $fail_on); see the report above and $sarif" >&2 ;;
    *) echo "archscan: $input could not be read (exit $status)" >&2 ;;
esac
exit "$status"
