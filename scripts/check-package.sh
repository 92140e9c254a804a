#!/usr/bin/env bash
# Checks what `cargo package` ships: what a build needs (Cargo.toml, Cargo.lock,
# build.rs, every file git tracks under src/) and the crate page's README and
# CHANGELOG, and nothing else: no fixtures, fuzz corpora, benchmarks, tests,
# scripts, CI recipes or release output. Then packs the crate (--no-verify: a
# verifying build compiles every dependency again without the dev-dependencies'
# features, two more minutes on the project's machine; ARCHSCAN_PACKAGE_VERIFY=1
# runs it) and checks its size.
#
# Usage: scripts/check-package.sh
# Prints `check-package: N passed, N failed`; exits 1 when any check failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "  ok    $*"; }
bad() { failed=$((failed + 1)); echo "  FAIL  $*" >&2; }

# --allow-dirty: the list is what matters, and a developer's tree may be dirty.
list="$(cargo package --list --locked --allow-dirty 2>&1)" || { echo "$list" >&2; bad "cargo package --list"; list=""; }
echo "check-package: $(wc -l <<<"$list") files in the crate"

forbidden="$(grep -E '^(fixtures|fuzz|bench|tests|scripts|docs|dist|target|\.ci|\.github)/|^action\.yml$|^BENCHMARKS\.md$|\.(tar|gz|zst|xz|snap)$' <<<"$list")"
if [[ -z $forbidden ]]; then ok "no fixtures, fuzz, bench, tests, scripts, docs, CI or release files"; else
    bad "forbidden files in the crate:"
    sed 's/^/          /' <<<"$forbidden" >&2
fi
allowed="$(grep -vE '^(src/.*|Cargo\.toml|Cargo\.toml\.orig|Cargo\.lock|build\.rs|README\.md|CHANGELOG\.md|LICENSE.*|\.cargo_vcs_info\.json)$' <<<"$list")"
if [[ -z $allowed ]]; then ok "only src/, Cargo.toml, Cargo.lock, build.rs, README.md, CHANGELOG.md"; else
    bad "files in the crate outside the list a build needs:"
    sed 's/^/          /' <<<"$allowed" >&2
fi
missing="$(git ls-files src build.rs Cargo.toml Cargo.lock README.md | grep -vxF -f <(printf '%s\n' "$list"))"
if [[ -z $missing ]]; then ok "every file git tracks under src/, build.rs, Cargo.lock and the README is in it"; else
    bad "files a build needs are missing from the crate:"
    sed 's/^/          /' <<<"$missing" >&2
fi

verify=(--no-verify)
[[ ${ARCHSCAN_PACKAGE_VERIFY:-0} == 1 ]] && verify=()
if out="$(cargo package --locked --allow-dirty "${verify[@]}" 2>&1)"; then
    ok "cargo package --locked ${verify[*]}"
else
    echo "$out" >&2
    bad "cargo package --locked ${verify[*]}"
fi
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
crate="${CARGO_TARGET_DIR:-target}/package/archscan-$version.crate"
size="$(stat -c %s "$crate" 2>/dev/null || echo 0)"
if [[ $size -gt 0 && $size -lt 1048576 ]]; then ok "$crate is $size bytes (under 1 MiB)"; else
    bad "$crate is $size bytes (expected under 1 MiB)"
fi

echo "check-package: $passed passed, $failed failed"
[[ $failed == 0 ]]
