#!/usr/bin/env bash
# scripts/ablate.sh and scripts/ablations/: every ablation patch says what it
# turns off and which measurement shows it, and still applies to the source
# tree (a patch that rotted would measure nothing); an unknown name is a
# usage error. One ablation runs for real: worker threads with the default
# stack instead of 256 KiB, where the numbers are the point (the address
# space per held worker grows by megabytes, the resident memory does not).
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need git cmake python3
A="$SECSOCK_SRC/scripts/ablate.sh"

case_list_and_apply() {
    local p name listed n=0
    capture bash "$A" --list
    assert_capture 0 "ablate.sh --list"
    for p in "$SECSOCK_SRC"/scripts/ablations/*.patch; do
        name="$(basename "$p" .patch)"
        n=$((n + 1))
        listed="$(grep -E "^$name " <<<"$CAP_OUT")" || fail "--list does not list $name: [$CAP_OUT]"
        [[ "$listed" =~ measurement\ ([1-5]|stacks|pool)\ +[a-z0-9] ]] ||
            fail "$name: no measurement or no description in [$listed]"
        (cd "$SECSOCK_SRC" && git apply --check "$p") ||
            fail "scripts/ablations/$name.patch no longer applies to the source tree"
    done
    ((n >= 5)) || fail "only $n ablation patches"
    assert_eq "$n" "$(grep -c . <<<"$CAP_OUT")" "lines of --list"
}

case_unknown_name() {
    capture bash "$A" no-such-thing
    assert_capture 2 "ablate.sh no-such-thing"
    assert_eq "ablate.sh: no ablation no-such-thing (scripts/ablate.sh --list)" "${CAP_ERR%$'\n'}"
    capture bash "$A"
    assert_capture 2 "ablate.sh without a name"
}

case_default_stacks() {
    git -C "$SECSOCK_SRC" rev-parse --verify -q HEAD >/dev/null || fail "$SECSOCK_SRC is not a git work tree"
    mkdir -p "$TEST_TMP/tmp"
    TMPDIR="$TEST_TMP/tmp" CAPTURE_TIMEOUT=300 capture bash "$A" default-stacks
    assert_capture 0 "ablate.sh default-stacks"
    _it_log "$(grep -E "per client" <<<"$CAP_OUT")"
    # "LABEL threads T VmSize M MiB (+V KiB per client) VmRSS R MiB (+S KiB per client)"
    local re='threads +([0-9]+) +VmSize +[0-9]+ MiB \(\+ *([0-9]+) KiB per client\) +VmRSS +[0-9.]+ MiB \(\+ *([0-9.]+) KiB per client\)'
    local ours theirs
    ours="$(grep -E "^this tree " <<<"$CAP_OUT")" || fail "no row for this tree: [$CAP_OUT]"
    theirs="$(grep -E "^default-stacks " <<<"$CAP_OUT")" || fail "no row for the ablation: [$CAP_OUT]"
    [[ "$ours" =~ $re ]] || fail "cannot read [$ours]"
    local threads="${BASH_REMATCH[1]}" vsz="${BASH_REMATCH[2]}" rss="${BASH_REMATCH[3]}"
    [[ "$theirs" =~ $re ]] || fail "cannot read [$theirs]"
    local a_threads="${BASH_REMATCH[1]}" a_vsz="${BASH_REMATCH[2]}" a_rss="${BASH_REMATCH[3]}"
    # 200 workers and the main thread, and as many admission loops as CPUs.
    ((threads > 200 && a_threads == threads)) || fail "threads: $threads and $a_threads"
    ((vsz < 1024)) || fail "this tree's address space per held worker: $vsz KiB (256 KiB stacks)"
    ((a_vsz > 2 * vsz)) || fail "default stacks' address space per worker ($a_vsz KiB) is not above twice 256 KiB stacks' ($vsz KiB)"
    python3 -c 'import sys; a, b = map(float, sys.argv[1:]); sys.exit(abs(a - b) > 8)' "$rss" "$a_rss" ||
        fail "resident memory per worker differs by more than 8 KiB: $rss and $a_rss"
    ! git -C "$SECSOCK_SRC" worktree list | grep -qF "$TEST_TMP/tmp/" || fail "ablate.sh left its worktree"
    [[ -z "$(ls -A "$TEST_TMP/tmp")" ]] || fail "ablate.sh left $(ls "$TEST_TMP/tmp") in TMPDIR"
}

run_case "--list, and every patch applies" case_list_and_apply
run_case "an unknown ablation" case_unknown_name
run_case "default thread stacks, for real" case_default_stacks
finish_cases
