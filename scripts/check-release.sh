#!/usr/bin/env bash
# Checks the release directory scripts/release.sh wrote (default dist/):
# checksums, the binary (static, stripped, version and revision, linux/amd64 by
# archscan itself), the tarball, man page and completions, and archscan's own
# image: its config and layer, a scan of it by archscan (verdict ok, no
# finding), and, where podman can run containers on this machine, `podman run`
# on fixtures mounted at /scan; then that a second release run gives the same
# bytes (CHECK_RELEASE_AGAIN=0 skips it).
#
# Usage: scripts/check-release.sh [DIR]
# Prints one line per check and `check-release: N passed, N failed`; exits 1
# when any check failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

dir="${1:-dist}"
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "  ok    $*"; }
bad() { failed=$((failed + 1)); echo "  FAIL  $*" >&2; }
check() { # check DESCRIPTION COMMAND...: passes when COMMAND exits 0
    local what="$1"
    shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}
jqq() { jq -e "$@" >/dev/null; } # a jq test as a check's command, quietly
finish() {
    echo "check-release: $passed passed, $failed failed"
    [[ $failed == 0 ]]
    exit $?
}

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
rev="$(git rev-parse --short HEAD)"
full_rev="$(git rev-parse HEAD)"
triple=x86_64-unknown-linux-gnu
pkg="archscan-$version-$triple"
bin="$dir/archscan"
img="$dir/archscan-$version-linux-amd64.oci-archive.tar"
echo "check-release: $dir (archscan $version, $rev)"

if [[ ! -x $bin ]]; then
    bad "$bin exists (run scripts/release.sh first)"
    finish
fi

# Checksums cover every file of the directory.
check "SHA256SUMS verifies" bash -c "cd '$dir' && sha256sum --quiet -c SHA256SUMS"
listed="$(cut -c67- "$dir/SHA256SUMS" | LC_ALL=C sort)"
present="$(cd "$dir" && find . -type f ! -name SHA256SUMS ! -name .archscan-release -printf '%P\n' | LC_ALL=C sort)"
check "SHA256SUMS lists every file of $dir" test "$listed" == "$present"
for f in archscan "$pkg.tar.gz" archscan.1 completions/archscan.bash completions/_archscan \
    completions/archscan.fish completions/archscan.elv completions/_archscan.ps1; do
    check "$f is listed in SHA256SUMS" grep -qxF "$f" <<<"$listed"
done

# The binary.
kind="$(file -b "$bin")"
echo "        file: $kind"
check "file: statically linked" grep -Eq 'static-pie linked|statically linked' <<<"$kind"
check "file: stripped" grep -q ', stripped' <<<"$kind"
check "file: x86-64 ELF" grep -q 'ELF 64-bit LSB .*x86-64' <<<"$kind"
lddout="$(ldd "$bin" 2>&1)"
echo "        ldd: $(echo "$lddout" | tr -s ' \t\n' ' ')"
check "ldd: statically linked" grep -Eq 'statically linked|not a dynamic executable' <<<"$lddout"
check "--version says archscan $version ($rev)" test "$("$bin" --version)" == "archscan $version ($rev)"
self="$("$bin" "$bin" --format json | jq '.inputs[0]')" # JSON schema 2: the one input
check "archscan on itself: exit 0" test $? == 0
check "archscan on itself: linux/amd64, no interpreter" \
    jqq '.source.format == "binary" and .images[0].real_platform == "linux/amd64" and .images[0].verdict == "ok" and (.images[0].binaries | all(.interpreter == null))' <<<"$self"
"$bin" "$bin" | sed 's/^/        /'

# Man page, completions.
check "man page is roff with a .TH line" grep -q '^\.TH' "$dir/archscan.1"
check "bash completion parses" bash -n "$dir/completions/archscan.bash"
check "zsh completion defines _archscan" grep -q '^#compdef archscan' "$dir/completions/_archscan"
check "fish completion names archscan" grep -q 'complete -c archscan' "$dir/completions/archscan.fish"

# The tarball: one directory, the same binary.
members="$(tar -tzf "$dir/$pkg.tar.gz" | LC_ALL=C sort)"
for m in archscan archscan.1 completions/archscan.bash completions/_archscan README.md CHANGELOG.md; do
    check "tarball holds $pkg/$m" grep -qxF "$pkg/$m" <<<"$members"
done
check "tarball has nothing outside $pkg/" bash -c "! grep -v '^$pkg/' <<<\"\$1\"" _ "$members"
check "tarball's binary is $bin" cmp -s <(tar -xzOf "$dir/$pkg.tar.gz" "$pkg/archscan") "$bin"

# cargo-binstall's templates (Cargo.toml) name the tarball and the binary in it.
binstall="$(python3 - "$triple" <<'PY'
import sys, tomllib
pkg = tomllib.load(open("Cargo.toml", "rb"))["package"]
meta = pkg["metadata"]["binstall"]
suffix = {"tgz": ".tar.gz", "tar.gz": ".tar.gz"}[meta["pkg-fmt"]]
vals = {"repo": pkg["repository"], "version": pkg["version"], "name": pkg["name"],
        "target": sys.argv[1], "archive-suffix": suffix, "bin": "archscan", "binary-ext": ""}
def fill(t):
    for k, v in vals.items():
        t = t.replace("{ %s }" % k, v)
    return t
print(fill(meta["pkg-url"]).rsplit("/", 1)[1], fill(meta["bin-dir"]))
PY
)"
check "binstall pkg-url names $pkg.tar.gz" test "${binstall% *}" == "$pkg.tar.gz"
check "binstall bin-dir names $pkg/archscan in the tarball" grep -qxF "${binstall#* }" <<<"$members"

# archscan's own image.
if [[ ! -f $img ]]; then
    bad "$img exists (scripts/release.sh builds it unless --no-image)"
    finish
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tar -xf "$img" -C "$work"
blob() { echo "$work/blobs/${1/://}"; }
manifest="$(blob "$(jq -r '.manifests[0].digest' "$work/index.json")")"
config="$(blob "$(jq -r '.config.digest' "$manifest")")"
check "index names archscan:$version" \
    jqq --arg v "$version" '.manifests[0].annotations["org.opencontainers.image.ref.name"] == "archscan:" + $v' "$work/index.json"
check "config: linux/amd64" jqq '.os == "linux" and .architecture == "amd64"' "$config"
check "config: Entrypoint [\"/archscan\"], no Cmd" jqq '.config.Entrypoint == ["/archscan"] and (.config.Cmd // [] | length == 0)' "$config"
check "config: WorkingDir /scan" jqq '.config.WorkingDir == "/scan"' "$config"
check "config: User numeric and not root" \
    jqq '.config.User | test("^[1-9][0-9]*(:[0-9]+)?$")' "$config"
oci_expect="$(jq -n --arg v "$version" --arg r "$full_rev" \
    --arg s "$(sed -n 's/^repository = "\(.*\)"$/\1/p' Cargo.toml)" \
    --arg l "$(sed -n 's/^license = "\(.*\)"$/\1/p' Cargo.toml)" \
    '{"org.opencontainers.image.version": $v, "org.opencontainers.image.revision": $r,
      "org.opencontainers.image.source": $s, "org.opencontainers.image.licenses": $l}')"
check "config labels: OCI version, revision, source, licenses" \
    jqq --argjson e "$oci_expect" '.config.Labels as $l | $e | to_entries | all($l[.key] == .value)' "$config"
check "manifest annotations: OCI version, revision, source, licenses" \
    jqq --argjson e "$oci_expect" '.annotations as $a | $e | to_entries | all($a[.key] == .value)' "$manifest"
check "manifest: one layer" jqq '.layers | length == 1' "$manifest"
layer="$(blob "$(jq -r '.layers[0].digest' "$manifest")")"
files="$(tar -tvzf "$layer" | awk '{print $1, $2, $NF}')"
echo "$files" | sed 's/^/        layer: /'
check "layer: /archscan is the release binary" cmp -s <(tar -xzOf "$layer" archscan) "$bin"
check "layer: /archscan mode 0755, owned by 0/0" grep -qxF -- '-rwxr-xr-x 0/0 archscan' <<<"$files"
check "layer: Debian's CA bundle" cmp -s <(tar -xzOf "$layer" etc/ssl/certs/ca-certificates.crt) /etc/ssl/certs/ca-certificates.crt
check "layer: nothing but /archscan, the CA bundle and /scan" \
    test "$(tar -tzf "$layer" | sed 's|/$||' | LC_ALL=C sort | tr '\n' ' ')" == "archscan etc etc/ssl etc/ssl/certs etc/ssl/certs/ca-certificates.crt scan "

# Dogfooding: archscan judges its own image.
scan="$("$bin" "$img" --format json)"
code=$?
scan="$(jq '.inputs[0]' <<<"$scan")" # JSON schema 2: the one input
check "archscan on its image: exit 0 (got $code)" test "$code" == 0
check "archscan on its image: verdict ok, no finding, linux/amd64 declared and real, runs /archscan" \
    jqq '.source.format == "oci-archive" and (.images | length == 1) and .images[0].verdict == "ok"
           and (.images[0].findings | length == 0) and (.notes | length == 0)
           and .images[0].declared.platform == "linux/amd64" and .images[0].real_platform == "linux/amd64"
           and .images[0].entrypoint.resolved == "/archscan"' <<<"$scan"
"$bin" -v "$img" | sed 's/^/        /' # the findings, if any, are in this report

# podman run, where this machine can run containers. On the project's build
# machines crun refuses the hybrid cgroup layout and no process may raise its
# rlimits (no CAP_SYS_RESOURCE), so when the plain run fails for podman's own
# reasons (exit 125-127) it is tried again with runc and lowered rlimits.
if ! command -v podman >/dev/null; then
    echo "  skip  podman run: podman is not installed here (scripts/install-test-deps.sh installs it)"
else
    store="$work/podman"
    p=(podman --root "$store/root" --runroot "$store/run" --storage-driver vfs)
    r=(--rm --network none -v "$PWD/fixtures:/scan:ro")
    runout="$("${p[@]}" run "${r[@]}" "oci-archive:$img" amd64-ok.tar 2>&1)"
    code=$?
    if [[ $code -ge 125 ]] && command -v runc >/dev/null; then
        echo "        podman run failed (exit $code): $(tail -n 1 <<<"$runout")"
        echo "        trying again with --runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
        p+=(--runtime runc)
        r+=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
        runout="$("${p[@]}" run "${r[@]}" "oci-archive:$img" amd64-ok.tar 2>&1)"
        code=$?
    fi
    if [[ $code -ge 125 ]]; then
        echo "  skip  podman run: podman cannot run a container on this machine (exit $code):"
        tail -n 3 <<<"$runout" | sed 's/^/        /'
    else
        grep -v -E '^(Getting|Copying|Writing|Storing)' <<<"$runout" | sed 's/^/        /'
        check "podman run IMAGE amd64-ok.tar (fixtures at /scan): exit 0 (got $code)" test "$code" == 0
        check "podman run IMAGE amd64-ok.tar: says OK" grep -q 'amd64-ok.tar: OK' <<<"$runout"
        "${p[@]}" run "${r[@]}" "oci-archive:$img" -q seed-mislabelled.tar >/dev/null 2>&1
        code=$?
        check "podman run IMAGE seed-mislabelled.tar: exit 1 (got $code)" test "$code" == 1
        "${p[@]}" run "${r[@]}" -i "oci-archive:$img" -q --platform linux/amd64 - <"$PWD/fixtures/arm64-correct.tar" >/dev/null 2>&1
        code=$?
        check "podman run -i IMAGE --platform linux/amd64 - < arm64-correct.tar: exit 1 (got $code)" test "$code" == 1
        "${p[@]}" run "${r[@]}" "oci-archive:$img" --format sarif amd64-ok.tar >"$work/podman.sarif" 2>/dev/null
        check "podman run IMAGE --format sarif amd64-ok.tar > FILE: SARIF 2.1.0" jqq '.version == "2.1.0"' "$work/podman.sarif"
        ver="$("${p[@]}" run "${r[@]}" "oci-archive:$img" --version 2>&1 | tail -n 1)"
        check "podman run IMAGE --version: archscan $version ($rev)" test "$ver" == "archscan $version ($rev)"
        who="$("${p[@]}" image inspect --format '{{.Config.User}} {{.Config.WorkingDir}}' "archscan:$version" 2>&1)"
        check "podman sees User 65532:65532, WorkingDir /scan" test "$who" == "65532:65532 /scan"
    fi
    "${p[@]}" rmi --all --force >/dev/null 2>&1
fi

# Reproducible: a second run of the release script on this tree gives the same
# bytes (cargo's cache makes it quick). Only when DIR was built from this tree.
if [[ ${CHECK_RELEASE_AGAIN:-1} == 1 ]]; then
    again="$work/again"
    if bash scripts/release.sh "$again" >"$work/again.log" 2>&1; then
        check "a second release run gives the same SHA256SUMS (reproducible)" cmp -s "$dir/SHA256SUMS" "$again/SHA256SUMS"
        cmp -s "$dir/SHA256SUMS" "$again/SHA256SUMS" || diff "$dir/SHA256SUMS" "$again/SHA256SUMS" >&2
    else
        tail -n 5 "$work/again.log" >&2
        bad "a second release run (scripts/release.sh $again)"
    fi
fi
finish
