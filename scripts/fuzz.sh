#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz/) with clang and runs each one
# for a bounded time on a working copy of its seed corpus. Any crash, leak,
# sanitizer report, timeout or out-of-memory is a failure, and the input
# that caused it is kept and named.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ALL_TARGETS=(http_framing http_request resolve pin target term tls_pair pcapng fingerprint)

usage() {
    cat <<EOF
Usage: scripts/fuzz.sh [--seconds N] [--build DIR] [--no-install] [TARGET...]

Configures DIR (default: build-fuzz/) with CC=clang -DSECSOCK_FUZZ=ON, which
builds the library with ASan+UBSan and coverage instrumentation and the
harnesses with -fsanitize=fuzzer,address,undefined; then runs each TARGET
(default: all) for N seconds (default 10).

Targets: ${ALL_TARGETS[*]}  (a "fuzz_" prefix is accepted)

Each run starts from DIR/corpus/TARGET/, a working copy of the seeds in
tests/fuzz/corpus/TARGET/ that keeps what the fuzzer finds, so later and
longer runs go on from there. A failing input is saved in
DIR/crashes/TARGET/ and its path printed; the fuzzer's output is in
DIR/logs/TARGET.log. Replay one with: DIR/fuzz/fuzz_TARGET FILE

One line per target: "fuzz.sh: ok TARGET ..." or "fuzz.sh: FAILED TARGET ...";
the last line is "fuzz.sh: N passed, M failed". Exits 1 if any failed,
2 on a usage error.

Options:
  --seconds N    fuzzing time per target (default 10)
  --build DIR    build directory (default: build-fuzz)
  --no-install   do not install missing packages (clang, libfuzzer-14-dev)
  -h, --help     this help
EOF
}

bad_usage() {
    printf 'fuzz.sh: %s\n' "$1" >&2
    printf 'Try: scripts/fuzz.sh --help\n' >&2
    exit 2
}

seconds=10
build="build-fuzz"
install=1
targets=()
while (($# > 0)); do
    case "$1" in
        --seconds)
            (($# >= 2)) || bad_usage "--seconds needs an argument"
            [[ "$2" =~ ^[1-9][0-9]*$ ]] || bad_usage "invalid --seconds '$2': want a whole number above 0"
            seconds="$2"
            shift
            ;;
        --build)
            (($# >= 2)) || bad_usage "--build needs a directory"
            [[ -n "$2" ]] || bad_usage "--build needs a directory"
            build="$2"
            shift
            ;;
        --no-install) install=0 ;;
        -h | --help) usage; exit 0 ;;
        -*) bad_usage "unknown option: $1" ;;
        *)
            t="${1#fuzz_}"
            [[ " ${ALL_TARGETS[*]} " == *" $t "* ]] || bad_usage "unknown target: $1 (targets: ${ALL_TARGETS[*]})"
            targets+=("$t")
            ;;
    esac
    shift
done
((${#targets[@]} > 0)) || targets=("${ALL_TARGETS[@]}")

cd "$SECSOCK_ROOT"
if ((install)); then
    ensure_packages clang libfuzzer-14-dev
else
    ensure_packages --no-install clang libfuzzer-14-dev
fi
command -v clang >/dev/null 2>&1 || die "clang not found (Debian: apt-get install clang)"

note "building the harnesses in $build/ (clang, -DSECSOCK_FUZZ=ON)"
CC=clang cmake -S . -B "$build" -DSECSOCK_FUZZ=ON -DSECSOCK_WERROR=ON -DBUILD_TESTING=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null ||
    die "cmake configure of $build/ failed (a directory configured with another compiler? remove it)"
mkdir -p "$build/logs"
if ! cmake --build "$build" --target fuzzers -j "$(nproc 2>/dev/null || echo 2)" \
    >"$build/logs/build.log" 2>&1; then
    tail -n 40 "$build/logs/build.log"
    die "building the harnesses failed; see $build/logs/build.log"
fi

# Sanitizer reports must stop the run; keep what the caller chose otherwise.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

passed=0
failed=0
for t in "${targets[@]}"; do
    bin="$build/fuzz/fuzz_$t"
    work="$build/corpus/$t"
    crashes="$build/crashes/$t"
    log="$build/logs/$t.log"
    mkdir -p "$work" "$crashes" "$(dirname "$log")"
    cp -p tests/fuzz/corpus/"$t"/* "$work"/
    extra=()
    # The head limit is 16 KiB: let inputs grow past it.
    [[ "$t" == http_framing ]] && extra+=(-max_len=20000)

    before="$(find "$crashes" -type f | wc -l)"
    note "fuzzing $t for ${seconds}s (corpus: $(find "$work" -type f | wc -l) inputs)"
    rc=0
    timeout -k 10 $((seconds + 120)) "$bin" -max_total_time="$seconds" -timeout=25 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$crashes/" \
        "${extra[@]}" "$work" >"$log" 2>&1 </dev/null || rc=$?
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    if ((rc == 0)); then
        passed=$((passed + 1))
        echo "fuzz.sh: ok $t (${seconds}s, ${runs:-?} runs, corpus $(find "$work" -type f | wc -l) inputs)"
        continue
    fi
    failed=$((failed + 1))
    newest="$(find "$crashes" -type f -printf '%T@ %p\n' | sort -n | tail -n 1 | cut -d' ' -f2-)"
    echo "---- $log (last 40 lines) ----"
    tail -n 40 "$log"
    echo "----"
    if (($(find "$crashes" -type f | wc -l) > before)) && [[ -n "$newest" ]]; then
        echo "fuzz.sh: FAILED $t: $(basename "$newest" | cut -d- -f1); input saved in $newest (replay: $bin $newest)"
    else
        echo "fuzz.sh: FAILED $t: the fuzzer exited with status $rc and saved no input; see $log"
    fi
done

echo "fuzz.sh: $passed passed, $failed failed"
((failed == 0))
