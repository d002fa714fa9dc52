#!/usr/bin/env bash
# Builds a newer OpenSSL series (3.5 LTS or 4.x) from Debian's own source
# packages into a cache outside the clone, and prints its prefix:
#
#   prefix=$(scripts/openssl.sh 4)
#   cmake -S . -B build-ossl4 -DOPENSSL_ROOT_DIR="$prefix"
#
# Why Debian's source packages: the machine already trusts that archive
# (its keyring verifies the Release files, and so the tarball's checksum),
# so no other download site or key is needed. The apt configuration used
# for it is private (own sources list, lists and cache directories under the
# cache): the system's apt state is not touched.
#
# The prefix is ${XDG_CACHE_HOME:-$HOME/.cache}/secsock/openssl-VERSION; its
# file .secsock-complete is written last, so a prefix without it is an
# interrupted build. A second call reuses a complete prefix of the series
# without going to the network. Concurrent calls wait for each other (flock).
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    cat <<'EOF'
Usage: scripts/openssl.sh [--refresh] SERIES

SERIES is 3.5 (Debian 13 "trixie") or 4 (Debian sid or experimental).
Fetches the newest OpenSSL of that series from Debian's source packages,
builds it (shared, no tests, no docs; about 3 minutes on 2 cores) and
prints the install prefix on stdout. Build output goes to a log file in
the cache; progress to stderr.

Options:
  --refresh   look for a newer version even if one of the series is built
  -h, --help  this help

Environment:
  XDG_CACHE_HOME          cache root (default ~/.cache); the prefix is
                          $XDG_CACHE_HOME/secsock/openssl-VERSION
  SECSOCK_DEBIAN_MIRROR   the Debian archive to use (default: the one in
                          /etc/apt/sources.list(.d), else deb.debian.org)
  SECSOCK_JOBS            make -j (default 2)
Exit status: 0 prefix printed, 1 fetch or build failed, 2 usage error.
EOF
}

refresh=0
series=""
while (($# > 0)); do
    case "$1" in
        --refresh) refresh=1 ;;
        -h | --help) usage; exit 0 ;;
        -*)
            printf 'openssl.sh: unknown option: %s (see --help)\n' "$1" >&2
            exit 2
            ;;
        *)
            [[ -z "$series" ]] || { printf 'openssl.sh: one SERIES only (3.5 or 4)\n' >&2; exit 2; }
            series="$1"
            ;;
    esac
    shift
done
case "$series" in
    3.5) suites=(trixie trixie-updates); version_re='^3\.5\.' ;;
    4 | 4.*) series=4; suites=(sid experimental); version_re='^4\.' ;;
    "") printf 'openssl.sh: SERIES missing: give 3.5 or 4\n' >&2; exit 2 ;;
    *) printf 'openssl.sh: unknown SERIES %s: give 3.5 or 4\n' "$series" >&2; exit 2 ;;
esac

cache="${XDG_CACHE_HOME:-$HOME/.cache}/secsock"
mkdir -p "$cache"

# The newest complete prefix of the series, if any.
complete_prefix() {
    local d best=""
    for d in "$cache"/openssl-*/; do
        d="${d%/}"
        [[ -f "$d/.secsock-complete" ]] || continue
        [[ "${d##*/openssl-}" =~ $version_re ]] || continue
        if [[ -z "$best" ]] || [[ "$(printf '%s\n%s\n' "${best##*/openssl-}" "${d##*/openssl-}" | sort -V | tail -1)" == "${d##*/openssl-}" ]]; then
            best="$d"
        fi
    done
    printf '%s' "$best"
}

if ((refresh == 0)); then
    found="$(complete_prefix)"
    if [[ -n "$found" ]]; then
        printf '%s\n' "$found"
        exit 0
    fi
fi

# One build of a series at a time; a second caller waits and then reuses.
exec 9>"$cache/openssl-$series.lock"
flock 9
if ((refresh == 0)); then
    found="$(complete_prefix)"
    if [[ -n "$found" ]]; then
        printf '%s\n' "$found"
        exit 0
    fi
fi

# The archive the machine's apt already uses (the first non-security
# Debian URI), so that a mirror or proxy set up there applies here too.
mirror="${SECSOCK_DEBIAN_MIRROR:-}"
if [[ -z "$mirror" ]]; then
    mirror="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
        grep -oE '(https?|file)://[^ ]*/debian/?( |$)' | grep -v security | head -1 | tr -d ' ' || true)"
fi
mirror="${mirror:-http://deb.debian.org/debian}"
mirror="${mirror%/}"

apt_dir="$cache/apt-$series"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/sourceparts"
{
    for s in "${suites[@]}"; do
        printf 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' "$mirror" "$s"
    done
} >"$apt_dir/sources.list"
apt_opts=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list"
    -o "Dir::Etc::sourceparts=$apt_dir/sourceparts"
    -o "Dir::State::Lists=$apt_dir/lists"
    -o "Dir::Cache=$apt_dir/cache"
    -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
    -o "APT::Sandbox::User=$(id -un)"
    -o "Acquire::Languages=none")

printf 'openssl.sh: reading the %s source lists from %s\n' "${suites[*]}" "$mirror" >&2
apt-get -q "${apt_opts[@]}" update >"$apt_dir/update.log" 2>&1 ||
    die "apt-get update failed with the private sources list $apt_dir/sources.list (see $apt_dir/update.log)"

# Every openssl source version of the series the suites offer, newest
# first. The lists can name a version the archive no longer (or not yet)
# serves: the newest one that downloads is used.
mapfile -t candidates < <(apt-cache "${apt_opts[@]}" showsrc openssl 2>/dev/null |
    sed -n 's/^Version: //p' | sort -u |
    while read -r v; do
        up="${v#*:}"
        up="${up%-*}"
        if [[ "$up" =~ $version_re ]]; then printf '%s\n' "$v"; fi
    done | sort -rV)
((${#candidates[@]} > 0)) || die "no OpenSSL $series source package in ${suites[*]} on $mirror"
upver=""
for debver in "${candidates[@]}"; do
    v="${debver#*:}"
    v="${v%-*}"
    if [[ -f "$cache/openssl-$v/.secsock-complete" ]]; then
        printf '%s\n' "$cache/openssl-$v"
        exit 0
    fi
    src_dir="$cache/src-openssl-$v"
    rm -rf "$src_dir" "$cache/openssl-$v"
    mkdir -p "$src_dir"
    printf 'openssl.sh: fetching openssl %s (Debian %s)\n' "$v" "$debver" >&2
    if (cd "$src_dir" && apt-get -q "${apt_opts[@]}" source --download-only "openssl=$debver") \
        >"$src_dir/fetch.log" 2>&1; then
        upver="$v"
        break
    fi
    warn "openssl $debver is listed but does not download ($(grep -m1 -o "[0-9]\{3\} *Not Found" "$src_dir/fetch.log" || echo "see apt-get source")); trying an older one"
    rm -rf "$src_dir"
done
[[ -n "$upver" ]] || die "no OpenSSL $series source package downloads from $mirror (${candidates[*]})"
prefix="$cache/openssl-$upver"

# The upstream tarball: Debian's patches are about Debian's packaging; the
# matrix tests the library as upstream releases it.
orig="$(find "$src_dir" -maxdepth 1 -name "openssl_${upver}.orig.tar.*" ! -name '*.asc' | head -1)"
[[ -n "$orig" ]] || die "no openssl_${upver}.orig.tar.* in $src_dir"
tar -xf "$orig" -C "$src_dir"
tree="$(find "$src_dir" -mindepth 1 -maxdepth 1 -type d -name 'openssl*' | head -1)"
[[ -n "$tree" && -x "$tree/Configure" ]] || die "no Configure in the unpacked $orig"

log="$src_dir/build.log"
printf 'openssl.sh: building openssl %s into %s (log: %s)\n' "$upver" "$prefix" "$log" >&2
# The rpath lets the installed bin/openssl, and nothing else, find its own
# libraries before Debian's libssl3.
(
    cd "$tree"
    ./Configure --prefix="$prefix" --libdir=lib no-tests no-docs shared "-Wl,-rpath,$prefix/lib"
    make -j"${SECSOCK_JOBS:-2}"
    make install_sw
) >"$log" 2>&1 || {
    tail -20 "$log" >&2
    die "building openssl $upver failed (see $log)"
}
"$prefix/bin/openssl" version >&2 || die "the built $prefix/bin/openssl does not run"
touch "$prefix/.secsock-complete"
rm -rf "$tree"
printf '%s\n' "$prefix"
