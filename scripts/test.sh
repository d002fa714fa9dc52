#!/usr/bin/env bash
# Builds secsock and runs its test suite: a normal gcc build in build/, then
# cppcheck and clang-tidy (scripts/lint.sh), an ASan+UBSan build in
# build-asan/, a TSan build in build-tsan/ (unit tests and the servers'
# integration tests), then each fuzz harness for a short time (scripts/fuzz.sh,
# build-fuzz/), then the OpenSSL matrix: the gcc build and its ctest suite
# (all but the tests OpenSSL cannot change: matrix_skip) again against OpenSSL 3.5 (build-ossl35/) and 4.x (build-ossl4/),
# built from Debian's sources by scripts/openssl.sh into ~/.cache/secsock.
# A skipped or not-run test is a failure.
# The last line is always "test.sh: N passed, M failed".
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    cat <<'EOF'
Usage: scripts/test.sh [--quick] [--no-install] [--openssl SERIES]

Installs missing Debian packages (apt-get; as root, or prints the sudo line),
then builds and tests:
  build/        gcc, RelWithDebInfo             ctest -j2
  lint          scripts/lint.sh build: cppcheck and clang-tidy   (one test)
  build-asan/   clang, ASan+UBSan (-DSECSOCK_SANITIZE=address)   ctest -j2
  build-tsan/   clang, TSan (-DSECSOCK_SANITIZE=thread)          ctest -j2 -R (unit tests
                and the tests of the threaded servers: see tsan_tests)
  build-fuzz/   clang, libFuzzer: scripts/fuzz.sh --seconds 10   (each harness one test)
  build-ossl35/ gcc, RelWithDebInfo, OpenSSL 3.5 (scripts/openssl.sh 3.5)   ctest -j2
  build-ossl4/  gcc, RelWithDebInfo, OpenSSL 4.x (scripts/openssl.sh 4)     ctest -j2
                The programs run with that OpenSSL (rpath), the openssl
                s_client/s_server peers are its own; every test but those
                OpenSSL cannot change (matrix_skip: benchmark, ablations, docs). The first run builds
                each OpenSSL (a few minutes each) into ~/.cache/secsock.

Options:
  --quick        only the normal build (no lint, sanitizer builds, fuzzing or
                 OpenSSL matrix)
  --openssl SERIES
                 only the build against that OpenSSL series (3.5 or 4) and
                 its ctest suite; may be given twice
  --no-install   do not install packages (only warn about missing ones)
  -h, --help     this help

A test that is skipped or not run counts as failed. Exits non-zero if
anything failed; the last line is "test.sh: N passed, M failed".
Environment: SECSOCK_TEST_BUDGET  seconds for the whole run (default 2700: the project keeps it under 45 minutes).
EOF
}

quick=0
install=1
series_only=()
while (($# > 0)); do
    case "$1" in
        --quick) quick=1 ;;
        --openssl)
            case "${2:-}" in
                3.5 | 4) series_only+=("$2") ;;
                *)
                    printf 'test.sh: --openssl wants 3.5 or 4, not %s\n' "${2:-nothing}" >&2
                    exit 2
                    ;;
            esac
            shift
            ;;
        --no-install) install=0 ;;
        -h | --help) usage; exit 0 ;;
        *)
            printf 'test.sh: unknown option: %s\n' "$1" >&2
            usage >&2
            exit 2
            ;;
    esac
    shift
done

cd "$SECSOCK_ROOT"

passed=0
failed=0
failures=()
ctest_args=() # extra ctest arguments for the next run_suite (a -R filter)
results=""
summary_printed=0

# Whatever happens (a failed install, Ctrl-C), the last line is the summary.
on_exit() {
    local st=$?
    [[ -n "$results" ]] && rm -rf "$results"
    if ((summary_printed == 0)); then
        ((st == 0)) && st=1
        echo "test.sh: stopped early (status $st)"
        echo "test.sh: $passed passed, $((failed + 1)) failed"
    fi
    exit "$st"
}
trap on_exit EXIT

if ((install)); then
    ensure_packages "${SECSOCK_TEST_PACKAGES[@]}"
else
    ensure_packages --no-install "${SECSOCK_TEST_PACKAGES[@]}"
fi

budget="${SECSOCK_TEST_BUDGET:-2700}"
[[ "$budget" =~ ^[0-9]+$ ]] || die "SECSOCK_TEST_BUDGET must be a number of seconds"
deadline=$((SECONDS + budget))
jobs="$(nproc 2>/dev/null || echo 2)"
results="$(mktemp -d "${TMPDIR:-/tmp}/secsock-test.XXXXXX")"

record_failure() { # NAME
    failed=$((failed + 1))
    failures+=("$1")
}

# The Python with Debian's python3-pytest (a pyenv python3 earlier on PATH
# may lack it).
py=/usr/bin/python3
[[ -x "$py" ]] || py="$(command -v python3)"
# A skipped pytest case fails the run (the suite installs every peer).
export SECSOCK_SKIP_FAILS=1

# run_suite LABEL BUILDDIR CC BUILDTYPE [CMAKE-ARGS...]
run_suite() {
    local label="$1" dir="$2" cc="$3" type="$4"
    shift 4
    printf '\n=== %s: configure and build %s/ (CC=%s, %s) ===\n' "$label" "$dir" "$cc" "$type"
    if ! CC="$cc" cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" -DSECSOCK_WERROR=ON "$@"; then
        record_failure "$label: cmake configure"
        return 0
    fi
    if ! cmake --build "$dir" -j "$jobs"; then
        record_failure "$label: build"
        return 0
    fi

    local left=$((deadline - SECONDS))
    if ((left < 30)); then
        record_failure "$label: ctest not run, out of time (SECSOCK_TEST_BUDGET=$budget)"
        return 0
    fi
    printf '\n=== %s: ctest (time left %ss) ===\n' "$label" "$left"
    local junit="$results/$label.xml" log="$results/$label.log" rc=0
    rm -rf "$dir/pytest" # each pytest entry writes its cases there
    timeout -k 30 "$left" ctest --test-dir "$dir" --output-on-failure -j2 \
        --output-junit "$junit" "${ctest_args[@]}" </dev/null 2>&1 | tee "$log" || rc=$?
    if ((rc == 124 || rc == 137)); then
        record_failure "$label: ctest killed, out of time (SECSOCK_TEST_BUDGET=$budget)"
    fi

    if [[ ! -s "$junit" ]]; then
        record_failure "$label: ctest wrote no results (exit $rc)"
        return 0
    fi
    local counts p f
    local -a lines
    if ! counts="$("$py" scripts/test_results.py "$junit" "$dir/pytest")"; then
        record_failure "$label: unreadable ctest results"
        return 0
    fi
    mapfile -t lines <<<"$counts"
    read -r p f <<<"${lines[0]}"
    passed=$((passed + p))
    failed=$((failed + f))
    local l
    for l in "${lines[@]:1}"; do
        [[ -n "$l" ]] && failures+=("$label: $l")
    done
    if ((p + f == 0)); then
        record_failure "$label: no tests found"
    elif ((f == 0 && rc != 0)); then
        record_failure "$label: ctest exited with status $rc"
    elif ((f == 0)) && grep -Eq '\*\*\*(Skipped|Not Run)' "$log"; then
        # The junit file and the log disagree; trust the stricter one.
        record_failure "$label: ctest reported a skipped or not-run test"
    fi
}

# run_lint: scripts/lint.sh (cppcheck and clang-tidy) with build/'s
# compile_commands.json; one test, failed by any finding.
run_lint() {
    printf '\n=== lint: scripts/lint.sh build (cppcheck, clang-tidy) ===\n'
    local left=$((deadline - SECONDS)) log="$results/lint.log" rc=0
    if ((left < 60)); then
        record_failure "lint: not run, out of time (SECSOCK_TEST_BUDGET=$budget)"
        return 0
    fi
    timeout -k 10 "$left" scripts/lint.sh build </dev/null 2>&1 | tee "$log" || rc=$?
    if ((rc == 0)); then
        passed=$((passed + 1))
    else
        record_failure "lint: $(tail -n 1 "$log") (exit $rc)"
    fi
}

# The TSan build runs the unit tests and the integration tests whose
# programs run threads: tcp-server, udp-server, their admission loops (not
# the 1000-connection attack tests, far too slow under TSan, nor the Apache
# and capture ones).
tsan_tests='^unit/|harness|server|admission|tcp_exchange|udp_exchange|tls_failures|interop'

# The OpenSSL matrix runs every test in which the OpenSSL version can make a
# difference; these cannot, and would only add minutes: the benchmark's
# smoke run and its options, the ablation patches, the docs and man-page
# checks (the -v sessions in docs/verbose.md are Debian 12's OpenSSL's,
# group and all), the harness's and the hostile tools' self-tests, the
# Apache helper script, and the pcapng writer fed by a driver (the
# programs' own --pcap, with the TLS secrets each OpenSSL logs, is
# pcap_programs, which the matrix runs).
matrix_skip='^integration/(bench_quick|bench_options|ablations|docs|docs_examples|install_manpages|harness|hostile_tools_horde|hostile_tools_input|apache_script|pcapng)$'

# The sanitizer build leaves out what runs none of the project's C, or
# runs it as other tests run it under ASan too, to stay within the 45
# minutes: the benchmark's options (--baseline and --trace-cost build
# and time programs of their own), the ablations (patched copies built
# apart), the Apache helper script, the harness's and hostile tools'
# self-tests, the docs and man-page checks, capture_report (the script's
# Python analysis of one exchange, which capture_compare also runs under
# ASan), and testssl.sh (three minutes of scans of OpenSSL's own
# parsing; the ClientHello parser that is ours is fuzzed, and the TLS
# tests feed it under ASan).
asan_skip='^integration/(bench_options|ablations|apache_script|harness|hostile_tools_horde|hostile_tools_input|docs|install_manpages|capture_report|testssl)$'

# testssl.sh scans the server's protocol, cipher and group policy, which
# OpenSSL 3.5 and 4.x share: the matrix scans it on the newest series.
matrix_skip_35='^integration/testssl$'

# run_fuzz: scripts/fuzz.sh builds build-fuzz/ and runs each libFuzzer
# harness for 10 s (six harnesses: about a minute); each harness counts as
# one test, passed or failed.
run_fuzz() {
    printf '\n=== fuzz: build-fuzz/ (clang, libFuzzer), each harness 10 s ===\n'
    local left=$((deadline - SECONDS))
    if ((left < 150)); then
        record_failure "fuzz: not run, out of time (SECSOCK_TEST_BUDGET=$budget)"
        return 0
    fi
    local log="$results/fuzz.log" rc=0 p f l
    timeout -k 30 "$left" scripts/fuzz.sh --no-install --seconds 10 </dev/null 2>&1 |
        tee "$log" || rc=$?
    p="$(grep -c '^fuzz.sh: ok ' "$log" || true)"
    f="$(grep -c '^fuzz.sh: FAILED ' "$log" || true)"
    passed=$((passed + p))
    failed=$((failed + f))
    while IFS= read -r l; do
        failures+=("fuzz: ${l#fuzz.sh: FAILED }")
    done < <(grep '^fuzz.sh: FAILED ' "$log" || true)
    if ((p + f == 0)); then
        record_failure "fuzz: no harness ran (fuzz.sh exited with status $rc)"
    elif ((f == 0 && rc != 0)); then
        record_failure "fuzz: fuzz.sh exited with status $rc"
    fi
}

# finish: the failures and the summary line; fails if anything failed.
finish() {
    echo
    if ((${#failures[@]} > 0)); then
        echo "Failed:"
        printf '  %s\n' "${failures[@]}"
    fi
    summary_printed=1
    echo "test.sh: $passed passed, $failed failed"
    ((failed == 0))
}

# run_openssl SERIES: scripts/openssl.sh builds (or reuses) that OpenSSL;
# the gcc build against it, and its ctest suite but matrix_skip. The programs find
# that libssl through their build rpath (CMake adds the prefix's lib/).
run_openssl() {
    local series="$1" label="ossl${1/./}" dir="build-ossl${1/./}" prefix
    printf '\n=== %s: OpenSSL %s (scripts/openssl.sh %s) ===\n' "$label" "$series" "$series"
    if ! prefix="$(scripts/openssl.sh "$series")"; then
        record_failure "$label: scripts/openssl.sh $series failed"
        return 0
    fi
    # FindOpenSSL caches what it found: a new version of the series (a
    # new prefix) needs a fresh configure.
    if [[ -f "$dir/CMakeCache.txt" ]] && ! grep -qxF "OPENSSL_ROOT_DIR:UNINITIALIZED=$prefix" "$dir/CMakeCache.txt" &&
        ! grep -qxF "OPENSSL_ROOT_DIR:PATH=$prefix" "$dir/CMakeCache.txt"; then
        rm -f "$dir/CMakeCache.txt"
    fi
    local skip="$matrix_skip"
    [[ "$series" != 3.5 ]] || skip="$skip|$matrix_skip_35"
    ctest_args=(-E "$skip")
    run_suite "$label" "$dir" gcc RelWithDebInfo -DOPENSSL_ROOT_DIR="$prefix"
    ctest_args=()
}

if ((${#series_only[@]} > 0)); then
    for s in "${series_only[@]}"; do
        run_openssl "$s"
    done
    status=0
    finish || status=1
    exit "$status"
fi

run_suite gcc build gcc RelWithDebInfo

if ((quick == 0)); then
    run_lint
    asan_cc=clang
    if ! command -v clang >/dev/null 2>&1; then
        warn "clang not found; using gcc for the sanitizer build"
        asan_cc=gcc
    fi
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    ctest_args=(-E "$asan_skip")
    run_suite asan build-asan "$asan_cc" Debug -DSECSOCK_SANITIZE=address
    ctest_args=()
    # halt_on_error: the first data race fails the program (and its test).
    export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
    ctest_args=(-R "$tsan_tests")
    run_suite tsan build-tsan "$asan_cc" Debug -DSECSOCK_SANITIZE=thread
    ctest_args=()
    run_fuzz
    run_openssl 3.5
    run_openssl 4
fi

finish
