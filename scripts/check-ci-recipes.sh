#!/usr/bin/env bash
# Checks the CI recipes as written, against the release directory
# scripts/release.sh made (default dist/), served as a file:// release URL:
#   action.yml                  both of its run steps, as GitHub runs them (bash -e)
#   docs/ci/github-workflow.yml actionlint, with the action resolved from this checkout
#   docs/ci/gitlab-ci.yml       the .archscan job's before_script and script (sh -e)
#   docs/ci/archscan-gate.sh    the shell recipe, with no archscan on PATH
#   docs/ci/release-other-platforms.yml  actionlint only (it needs arm64 and macOS runners)
# on bundled fixtures, for the exit codes 0/1/2, the --platform gate and the
# SARIF each writes; plus actionlint's and shellcheck's verdicts, the recipes'
# versions against Cargo.toml, and the copies of the recipes in docs/ci.md.
#
# Usage: scripts/check-ci-recipes.sh [DIR]
# Prints one line per check and `check-ci-recipes: N passed, N failed`; exits 1
# when any check failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root="$PWD"

dir="$(cd "${1:-dist}" && pwd)" || { echo "check-ci-recipes: no release directory (run scripts/release.sh)" >&2; exit 1; }
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "  ok    $*"; }
bad() { failed=$((failed + 1)); echo "  FAIL  $*" >&2; }
check() {
    local what="$1"
    shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}
# pip puts actionlint in Python's scripts directory, which may not be on PATH.
PATH="$PATH:$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null)"
for tool in actionlint shellcheck curl jq python3; do
    command -v "$tool" >/dev/null || { echo "check-ci-recipes: $tool is missing (bash scripts/install-release-deps.sh)" >&2; exit 1; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The release URL: <base>/v<version>/<asset>, as on a release page.
mkdir -p "$work/releases"
ln -s "$dir" "$work/releases/v$version"
release_url="file://$work/releases"
fx="$root/fixtures"
echo "check-ci-recipes: recipes against $dir (archscan $version), fixtures in $fx"

# Reads one value out of a YAML file: yq PATH FILE (PATH: keys and list indexes joined by /).
yq() {
    python3 - "$@" <<'EOF'
import sys, yaml
path, name = sys.argv[1], sys.argv[2]
v = yaml.safe_load(open(name))
for k in path.split("/"):
    v = v[int(k)] if isinstance(v, list) else v[k]
print("\n".join(v) if isinstance(v, list) else v)
EOF
}
sarif_ok() { # sarif_ok FILE RULE-or-empty: valid SARIF 2.1.0 from archscan, with a result of RULE (or none)
    jq -e --arg r "$2" '.version == "2.1.0" and .runs[0].tool.driver.name == "archscan"
        and (if $r == "" then (.runs[0].results | length == 0) else (.runs[0].results | any(.ruleId == $r)) end)' "$1" >/dev/null
}

# --- versions and placeholders -------------------------------------------------
check "action.yml: default version $version" test "$(yq inputs/version/default action.yml)" == "$version"
check "gitlab-ci.yml: ARCHSCAN_VERSION $version" test "$(yq variables/ARCHSCAN_VERSION docs/ci/gitlab-ci.yml)" == "$version"
check "archscan-gate.sh: default version $version" grep -qF "ARCHSCAN_VERSION:-$version}" docs/ci/archscan-gate.sh
check "github-workflow.yml: uses OWNER/archscan@v$version" grep -qF "uses: OWNER/archscan@v$version" docs/ci/github-workflow.yml
check "no <placeholder> left in the docs and recipes" \
    bash -c '! grep -rnE "<(repository-url|url|owner|image|release-url)>" README.md docs action.yml Cargo.toml'
check "docs/ci.md names the OWNER placeholder in its first lines" bash -c 'head -n 12 docs/ci.md | grep -q OWNER'

# --- copies in docs/ci.md --------------------------------------------------------
# A fenced block right after `<!-- file: PATH -->` must be PATH, byte for byte.
for f in action.yml docs/ci/github-workflow.yml docs/ci/gitlab-ci.yml docs/ci/archscan-gate.sh docs/ci/release-other-platforms.yml; do
    copy="$(awk -v f="$f" '
        $0 == "<!-- file: " f " -->" { want = 1; next }
        want && /^```/ && !inside { inside = 1; next }
        inside && /^```$/ { exit }
        inside { print }' docs/ci.md)"
    if [[ -z $copy ]]; then
        echo "  note  docs/ci.md has no copy of $f (it links to it)"
    else
        check "docs/ci.md's copy of $f is the file" test "$copy" == "$(cat "$f")"
    fi
done

# --- actionlint and shellcheck -----------------------------------------------------
check "actionlint: docs/ci/github-workflow.yml as written" actionlint -no-color docs/ci/github-workflow.yml
check "actionlint: docs/ci/release-other-platforms.yml as written" actionlint -no-color docs/ci/release-other-platforms.yml
# The same workflow using the action of this checkout, so actionlint reads
# action.yml and checks the inputs and outputs the workflow uses against it.
repo="$work/repo"
mkdir -p "$repo/.github/workflows"
cp action.yml "$repo/"
sed "s|uses: OWNER/archscan@v$version|uses: ./|" docs/ci/github-workflow.yml >"$repo/.github/workflows/image.yml"
git -C "$repo" init -q
check "actionlint: the workflow with uses: ./ (reads action.yml)" bash -c "cd '$repo' && actionlint -no-color"
# ... and actionlint does read it: a misspelt input must be an error.
sed -i 's|platform: linux/amd64|platfrom: linux/amd64|' "$repo/.github/workflows/image.yml"
check "actionlint: rejects an input action.yml does not declare (so it read action.yml)" \
    bash -c "cd '$repo' && ! actionlint -no-color >/dev/null"
check "shellcheck: docs/ci/archscan-gate.sh" shellcheck -s sh docs/ci/archscan-gate.sh
for step in 0 1; do
    yq "runs/steps/$step/run" action.yml >"$work/action-step-$step.sh"
    check "shellcheck: action.yml step $step's script" shellcheck -s bash "$work/action-step-$step.sh"
done

# --- action.yml, run as GitHub runs a composite step ----------------------------------
# run_action CASE INPUT PLATFORM FAIL_ON: runs both steps; prints the exit code.
run_action() {
    local case="$1" input="$2" platform="$3" fail_on="$4" code
    local ws="$work/gh-$case"
    mkdir -p "$ws/runner"
    : >"$ws/path" && : >"$ws/output"
    (
        cd "$ws" || exit 99
        export RUNNER_OS=Linux RUNNER_ARCH=X64 RUNNER_TEMP="$work/runner-temp"
        export GITHUB_PATH="$ws/path" GITHUB_OUTPUT="$ws/output"
        export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
        ARCHSCAN_VERSION="$version" ARCHSCAN_RELEASE_URL="$release_url" \
            bash --noprofile --norc -eo pipefail "$work/action-step-0.sh" >"$ws/install.log" 2>&1 || exit 98
        PATH="$(cat "$GITHUB_PATH"):$PATH"
        ARCHSCAN_INPUT="$input" ARCHSCAN_PLATFORM="$platform" ARCHSCAN_FAIL_ON="$fail_on" \
            ARCHSCAN_SARIF=archscan.sarif \
            bash --noprofile --norc -eo pipefail "$work/action-step-1.sh" >"$ws/scan.log" 2>&1
    )
    code=$?
    echo "$code"
}
# gh CASE INPUT PLATFORM FAIL_ON EXPECTED_EXIT RULE-or-empty
gh() {
    local code ws="$work/gh-$1"
    code="$(run_action "$1" "$2" "$3" "$4")"
    check "action: $2${3:+ --platform $3} --fail-on $4: exit $5 (got $code)" test "$code" == "$5"
    check "action: outputs exit-code=$5" grep -qx "exit-code=$5" "$ws/output"
    if [[ $5 != 2 ]]; then
        check "action: SARIF ${6:-with no result}" sarif_ok "$ws/archscan.sarif" "$6"
        check "action: outputs sarif=archscan.sarif" grep -qx "sarif=archscan.sarif" "$ws/output"
    fi
    if [[ $code == 98 ]]; then tail -n 5 "$ws/install.log" >&2; fi
}
gh ok "$fx/amd64-ok.tar" linux/amd64 error 0 ""
gh mislabelled "$fx/seed-mislabelled.tar" "" error 1 arch-mismatch
gh target "$fx/arm64-correct.tar" linux/amd64 error 1 target-mismatch
gh arm64 "$fx/arm64-correct.tar" linux/arm64 error 0 ""
gh warn "$fx/foreign-module.oci-archive.tar" "" error 0 foreign-binary
gh warn-gate "$fx/foreign-module.oci-archive.tar" "" warning 1 foreign-binary
gh two "$fx/amd64-ok.tar $fx/seed-mislabelled.tar" linux/amd64 error 1 arch-mismatch
gh missing "$fx/no-such-image.tar" linux/amd64 error 2 ""
check "action: install step put the release binary on GITHUB_PATH" \
    cmp -s "$(cat "$work/gh-ok/path")/archscan" "$dir/archscan"
check "action: report in the log" grep -q 'amd64-ok.tar: OK' "$work/gh-ok/scan.log"
# A tarball that does not match SHA256SUMS must stop the install step.
mkdir -p "$work/bad/v$version"
cp "$dir/SHA256SUMS" "$work/bad/v$version/"
pkg="archscan-$version-x86_64-unknown-linux-gnu"
{ cat "$dir/$pkg.tar.gz"; echo tampered; } >"$work/bad/v$version/$pkg.tar.gz"
(
    export RUNNER_OS=Linux RUNNER_ARCH=X64 RUNNER_TEMP="$work/bad-runner" GITHUB_PATH="$work/bad-path"
    ARCHSCAN_VERSION="$version" ARCHSCAN_RELEASE_URL="file://$work/bad" \
        bash --noprofile --norc -eo pipefail "$work/action-step-0.sh" >/dev/null 2>&1
)
check "action: a tarball that does not match SHA256SUMS fails the install (exit $?)" test $? != 0
(
    export RUNNER_OS=macOS RUNNER_ARCH=ARM64 RUNNER_TEMP="$work/mac-runner" GITHUB_PATH="$work/mac-path"
    ARCHSCAN_VERSION="$version" ARCHSCAN_RELEASE_URL="$release_url" \
        bash --noprofile --norc -eo pipefail "$work/action-step-0.sh" >"$work/mac.log" 2>&1
)
check "action: on a macOS/ARM64 runner the install step says to use cargo install (exit $?)" \
    grep -q 'cargo install' "$work/mac.log"

# --- GitLab: the .archscan job's lines, as a shell executor runs them ------------------
# gl CASE FIXTURE PLATFORM FAIL_ON EXPECTED_EXIT RULE-or-empty
gl() {
    local ws="$work/gl-$1" code
    mkdir -p "$ws"
    cp "$2" "$ws/image.tar"
    {
        echo "set -e"
        echo "export ARCHSCAN_VERSION='$(yq variables/ARCHSCAN_VERSION docs/ci/gitlab-ci.yml)'"
        echo "export ARCHSCAN_RELEASE_URL='$release_url'" # in place of the placeholder
        echo "export ARCHSCAN_INPUT='$(yq .archscan/variables/ARCHSCAN_INPUT docs/ci/gitlab-ci.yml)'"
        echo "export ARCHSCAN_PLATFORM='${3:-$(yq .archscan/variables/ARCHSCAN_PLATFORM docs/ci/gitlab-ci.yml)}'"
        echo "export ARCHSCAN_FAIL_ON='${4:-$(yq .archscan/variables/ARCHSCAN_FAIL_ON docs/ci/gitlab-ci.yml)}'"
        yq .archscan/before_script docs/ci/gitlab-ci.yml
        yq .archscan/script docs/ci/gitlab-ci.yml
    } >"$ws/job.sh"
    (cd "$ws" && PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin sh "$ws/job.sh" >"$ws/job.log" 2>&1)
    code=$?
    check "gitlab: $(basename "$2")${3:+ ARCHSCAN_PLATFORM=$3}${4:+ ARCHSCAN_FAIL_ON=$4}: exit $5 (got $code)" test "$code" == "$5"
    if [[ $5 != 2 ]]; then check "gitlab: archscan.sarif ${6:-with no result}" sarif_ok "$ws/archscan.sarif" "$6"; fi
}
gl ok "$fx/amd64-ok.tar" "" "" 0 ""
gl mislabelled "$fx/seed-mislabelled.tar" "" "" 1 arch-mismatch
gl target "$fx/arm64-correct.tar" "" "" 1 target-mismatch
gl arm64 "$fx/arm64-correct.tar" linux/arm64 "" 0 ""
gl warn-gate "$fx/foreign-module.oci-archive.tar" "" warning 1 foreign-binary
head -c 5000 "$fx/amd64-ok.tar" >"$work/truncated.tar"
gl truncated "$work/truncated.tar" "" "" 2 ""
check "gitlab: checksum verified in the log" grep -q "$pkg.tar.gz: OK" "$work/gl-ok/job.log"
check "gitlab: report in the log" grep -q 'image.tar: OK' "$work/gl-ok/job.log"

# --- the shell recipe, with no archscan on PATH ------------------------------------------
# sh_recipe CASE FIXTURE PLATFORM FAIL_ON EXPECTED_EXIT RULE-or-empty
sh_recipe() {
    local ws="$work/sh-$1" code
    mkdir -p "$ws"
    (cd "$ws" && PATH=/usr/sbin:/usr/bin:/sbin:/bin TMPDIR="$work/sh-tmp" ARCHSCAN_RELEASE_URL="$release_url" \
        ARCHSCAN_FAIL_ON="$4" sh "$root/docs/ci/archscan-gate.sh" "$2" ${3:+"$3"} >"$ws/log" 2>&1)
    code=$?
    check "shell recipe: $(basename "$2") ${3:-linux/amd64} --fail-on ${4:-error}: exit $5 (got $code)" test "$code" == "$5"
    if [[ $5 != 2 ]]; then check "shell recipe: archscan.sarif ${6:-with no result}" sarif_ok "$ws/archscan.sarif" "$6"; fi
}
sh_recipe ok "$fx/amd64-ok.tar" "" "" 0 ""
sh_recipe target "$fx/arm64-correct.tar" "" "" 1 target-mismatch
sh_recipe arm64 "$fx/arm64-correct.tar" linux/arm64 "" 0 ""
sh_recipe mislabelled "$fx/seed-mislabelled.tar" linux/amd64 "" 1 arch-mismatch
sh_recipe warn "$fx/foreign-module.oci-archive.tar" "" "" 0 foreign-binary
sh_recipe warn-gate "$fx/foreign-module.oci-archive.tar" "" warning 1 foreign-binary
sh_recipe missing "$fx/no-such-image.tar" "" "" 2 ""
check "shell recipe: fetched and verified once, then reused" \
    test "$(grep -c "$pkg.tar.gz: OK" "$work"/sh-*/log | awk -F: '{s+=$2} END {print s}')" == 1

echo "check-ci-recipes: $passed passed, $failed failed"
[[ $failed == 0 ]]
