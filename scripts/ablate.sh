#!/usr/bin/env bash
# What one built-in speed-up is worth: the programs of HEAD with it turned
# off, measured beside HEAD's own. scripts/ablations/NAME.patch turns it off;
# its header says what it changes and which measurement shows the effect.
#
# The patch is applied to a copy of HEAD in a temporary git worktree and
# committed there (detached: no branch, the work tree untouched). For
# measurements 1-5 that commit is handed to
#     scripts/bench.sh --only M --baseline COMMIT [your bench.sh options]
# whose "(before: COMMIT)" rows are then the programs without the speed-up:
# their ratio column is what it is worth. Two are measured here, on both
# builds of tcp-server: "stacks", 200 clients each holding a worker of
# tcp-server --echo, and the server's threads, VmSize and VmRSS; "pool",
# 10,000 clients one after another, each served by a worker: connections
# per second and the server's CPU time per connection.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ABLATIONS="$SECSOCK_ROOT/scripts/ablations"

usage() {
    cat <<'EOF'
Usage: scripts/ablate.sh NAME [bench.sh options, for measurements 1-5...]
       scripts/ablate.sh --list

  NAME     an ablation in scripts/ablations/ (NAME.patch)
  --list   the ablations, what each turns off, and the measurement
EOF
}

header() { sed -n "s/^# $2: //p" "$1"; }

if [[ $# -lt 1 ]]; then
    usage >&2
    exit 2
fi
case "$1" in
    -h | --help) usage; exit 0 ;;
    --list)
        for p in "$ABLATIONS"/*.patch; do
            printf '%-18s measurement %-7s %s\n' "$(basename "$p" .patch)" \
                "$(header "$p" measurement)" "$(header "$p" what)"
        done
        exit 0 ;;
esac
name="$1"
shift
patch="$ABLATIONS/$name.patch"
if [[ ! -f "$patch" ]]; then
    printf 'ablate.sh: no ablation %s (scripts/ablate.sh --list)\n' "$name" >&2
    exit 2
fi
measure="$(header "$patch" measurement)"
[[ "$measure" =~ ^([1-5]|stacks|pool)$ ]] ||
    die "$patch: its '# measurement:' is [$measure], not 1-5, stacks or pool"

tree="$(mktemp -d "${TMPDIR:-/tmp}/secsock-ablate.XXXXXX")"
cleanup() {
    git -C "$SECSOCK_ROOT" worktree remove --force "$tree" 2>/dev/null || rm -rf "$tree"
}
trap cleanup EXIT
git -C "$SECSOCK_ROOT" worktree add -q --detach "$tree" HEAD
git -C "$tree" apply "$patch" || die "$name.patch does not apply to HEAD"
git -C "$tree" -c user.name=ablate.sh -c user.email=ablate@localhost \
    commit -q -a -m "ablation $name: $(header "$patch" what)"
rev="$(git -C "$tree" rev-parse HEAD)"
note "$name: commit ${rev:0:7} is HEAD changed so: $(header "$patch" what)"

if [[ "$measure" =~ ^[1-5]$ ]]; then
    bash "$SECSOCK_ROOT/scripts/bench.sh" --only "$measure" --baseline "$rev" "$@"
    exit
fi

# --- measurements of tcp-server alone: stacks, pool --------------------------
build() { # SRC DIR
    if ! cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=Release >"$2.log" 2>&1 ||
        ! cmake --build "$2" -j "$(nproc)" --target tcp-server >>"$2.log" 2>&1; then
        die "the build of $1 failed (see $2.log)"
    fi
}
SERVER_PID=""
stop_server() {
    [[ -n "$SERVER_PID" ]] || return 0
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}
trap 'stop_server; cleanup' EXIT
start_server() { # TCP-SERVER ARGS... : sets SERVER_PID and SERVER_PORT
    start_server_ready SERVER_PID SERVER_PORT "$tree/server.out" "$@" -p 0 ||
        die "$1 did not start: $READY_ERROR"
}

# held_workers LABEL TCP-SERVER: threads, VmSize and VmRSS with 200 clients
# each holding a worker of tcp-server --echo (plaintext).
HELD=200
held_workers() {
    start_server "$2" --echo --max-clients $((HELD + 10))
    python3 "$SECSOCK_ROOT/scripts/ablate_held_workers.py" "$1" "$SERVER_PORT" "$HELD" "$SERVER_PID"
    stop_server
}

# one_by_one LABEL TCP-SERVER: 10,000 plaintext clients one after another,
# each sending a line and reading tcp-server's reply to the close (each is
# a worker's: it sent data); connections per second and the server's CPU
# time per connection (/proc/PID/stat).
one_by_one() {
    start_server "$2"
    python3 "$SECSOCK_ROOT/scripts/ablate_one_by_one.py" "$1" "$SERVER_PORT" "$SERVER_PID"
    stop_server
}

note "building this tree and ${rev:0:7} (Release, tcp-server only)"
build "$SECSOCK_ROOT" "$tree/build-head"
build "$tree" "$tree/build-ablation"
ours="$tree/build-head/bin/tcp-server" theirs="$tree/build-ablation/bin/tcp-server"
case "$measure" in
    stacks)
        ulimit -n $((HELD * 2 + 100)) 2>/dev/null || true
        note "$HELD clients, each holding a worker of tcp-server --echo (plaintext)"
        held_workers "this tree" "$ours"
        held_workers "$name (${rev:0:7})" "$theirs"
        ;;
    pool)
        note "10,000 plaintext clients one after another, three runs each, alternating"
        for _ in 1 2 3; do
            one_by_one "this tree" "$ours"
            one_by_one "$name (${rev:0:7})" "$theirs"
        done
        ;;
esac
