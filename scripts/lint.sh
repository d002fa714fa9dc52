#!/usr/bin/env bash
# Static analysis: cppcheck and clang-tidy over the C sources, with the
# compile flags of a CMake build (compile_commands.json), shellcheck over
# the shell scripts and flake8 over the Python files. Any finding fails.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    cat <<'EOF'
Usage: scripts/lint.sh [BUILD_DIR]

Runs, with BUILD_DIR/compile_commands.json (default build/; configured with
cmake first if it has none):
  cppcheck    over src/ and tests/ (options in this script)
  clang-tidy  over src/ (checks in .clang-tidy at the repository root)
  clang-format --dry-run over every C file (the style in .clang-format)
  shellcheck  over scripts/, tests/ and .ci/run (sourced files followed)
  flake8      over every .py file of the repository (configuration: .flake8;
              Debian's python3-flake8, run by a python3 that has it)

Exits 0 when all five report nothing, 1 on any finding or failure, 2 on a
usage error. The last line is "lint.sh: clean" or "lint.sh: N finding(s)".
Environment: SECSOCK_LINT_JOBS  parallel clang-tidy runs (default: nproc).
EOF
}

case "${1:-}" in
    -h | --help) usage; exit 0 ;;
    -*) printf 'lint.sh: unknown option: %s\n' "$1" >&2; usage >&2; exit 2 ;;
esac
(($# <= 1)) || { usage >&2; exit 2; }

cd "$SECSOCK_ROOT"
build="${1:-build}"
# Absolute: cppcheck makes the files of a relative project path relative too,
# and then they match no --file-filter.
[[ "$build" == /* ]] || build="$SECSOCK_ROOT/$build"
jobs="${SECSOCK_LINT_JOBS:-$(nproc 2>/dev/null || echo 2)}"
for tool in cppcheck clang-tidy clang-format shellcheck python3; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "$tool not found (scripts/test.sh installs it; or: apt-get install $tool)"
done
# flake8 is a module of Debian's python3 (python3-flake8); a python3 earlier
# on PATH (a pyenv one, say) may not have it.
lint_py=""
for py in /usr/bin/python3 "$(command -v python3)"; do
    if [[ -x "$py" ]] && "$py" -m flake8 --version >/dev/null 2>&1; then
        lint_py="$py"
        break
    fi
done
[[ -n "$lint_py" ]] ||
    die "no python3 with flake8 (scripts/test.sh installs it; or: apt-get install python3-flake8)"

db="$build/compile_commands.json"
if [[ ! -s "$db" ]]; then
    note "no $db: configuring $build/"
    cmake -S . -B "$build" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
fi
[[ -s "$db" ]] || die "$db was not written (is CMAKE_EXPORT_COMPILE_COMMANDS on?)"

work="$(mktemp -d "${TMPDIR:-/tmp}/secsock-lint.XXXXXX")"
trap 'rm -rf "$work"' EXIT
findings=0

# --- cppcheck ---------------------------------------------------------------
# warning, style, performance and portability; not "information" (system
# headers it cannot find) nor unusedFunction (the library's API is used by
# its callers, not by itself). posix.cfg teaches it the POSIX calls.
# Suppressed: usleepCalled in tests/ (POSIX calls usleep obsolescent; a test
# that sleeps a few milliseconds has no use for nanosleep's precision).
# False positives in src/ are suppressed inline (cppcheck-suppress), with why.
echo "=== cppcheck $(cppcheck --version | sed 's/^Cppcheck //') ==="
# Runs a checker that prints one "FILE:LINE:COL: SEVERITY: ..." line per
# finding and adds its findings (1 for a failure without any) to the count.
# run_checker NAME SEVERITY_REGEX CLEAN_MESSAGE COMMAND...
run_checker() {
    local name="$1" severities="$2" clean="$3" out="$work/$1.txt" n
    shift 3
    if ! "$@" >"$out" 2>&1; then
        [[ -s "$out" ]] || echo "$name failed without a message" >"$out"
    fi
    if [[ -s "$out" ]]; then
        cat "$out"
        n="$(grep -cE ": ($severities): " "$out" || true)"
        findings=$((findings + (n > 0 ? n : 1)))
    else
        echo "$clean"
    fi
}

run_checker cppcheck 'error|warning|style|performance|portability|information' \
    "cppcheck: no findings" \
    cppcheck --project="$db" --file-filter="$SECSOCK_ROOT/src/*" \
    --file-filter="$SECSOCK_ROOT/tests/*" \
    --enable=warning,style,performance,portability --library=posix --std=c11 \
    --inline-suppr --suppress="usleepCalled:*/tests/*" \
    --error-exitcode=1 --quiet -j "$jobs" \
    --template='{file}:{line}:{column}: {severity}: {message} [{id}]'

# --- clang-tidy -------------------------------------------------------------
echo "=== $(clang-tidy --version | grep -m1 -o 'LLVM version [0-9.]*' || echo clang-tidy) ==="
# The translation units under src/, once each.
mapfile -t files < <(python3 "$SECSOCK_ROOT/scripts/compile_db_sources.py" "$db" "$SECSOCK_ROOT/src/")
((${#files[@]} > 0)) || die "no src/ files in $db"
# CMakeLists.txt lists the sources by name: a .c file it does not list is
# neither built nor linted, so it is a finding here.
while read -r missing; do
    echo "$missing:1:1: error: not in $db: list it in CMakeLists.txt"
    findings=$((findings + 1))
done < <(LC_ALL=C comm -23 <(find "$SECSOCK_ROOT/src" -name '*.c' | LC_ALL=C sort) <(printf '%s\n' "${files[@]}"))

# One log per file, shown in order: parallel runs do not interleave.
tidy_one() { # INDEX FILE
    local log="$work/tidy.$1.log"
    if clang-tidy -p "$build" --quiet --extra-arg=-Wno-unknown-warning-option "$2" \
        >"$log" 2>&1; then
        rm -f "$log"
    fi
}
export -f tidy_one
export work build
for i in "${!files[@]}"; do
    printf '%s\0%s\0' "$i" "${files[i]}"
done | xargs -0 -n 2 -P "$jobs" bash -c 'tidy_one "$@"' _ || true

bad=0
for i in "${!files[@]}"; do
    log="$work/tidy.$i.log"
    [[ -e "$log" ]] || continue
    # "N warnings generated." and "Suppressed ..." are clang-tidy's chatter.
    grep -vE '^[0-9]+ (warning|error)s? (and [0-9]+ (warning|error)s? )?(generated|treated as errors?)\.$' "$log" || true
    n="$(grep -cE ': (warning|error): ' "$log" || true)"
    bad=$((bad + (n > 0 ? n : 1)))
done
if ((bad > 0)); then
    findings=$((findings + bad))
else
    echo "clang-tidy: no findings in ${#files[@]} files"
fi

# --- clang-format -----------------------------------------------------------
# The C files follow .clang-format (clang-format -i FILE applies it);
# --dry-run reports each place that differs as "FILE:LINE:COL: error: ...".
echo "=== $(clang-format --version | grep -o 'clang-format version [0-9.]*' || echo clang-format) ==="
mapfile -t c_files < <(find src include tests examples -type f \( -name '*.c' -o -name '*.h' \) | sort)
run_checker clang-format error "clang-format: all ${#c_files[@]} C files formatted" \
    clang-format --dry-run --Werror "${c_files[@]}"

# --- shellcheck -------------------------------------------------------------
echo "=== shellcheck $(shellcheck --version | sed -n 's/^version: //p') ==="
mapfile -t scripts < <(find scripts tests .ci -type f \( -name '*.sh' -o -path .ci/run \) | sort)
run_checker shellcheck 'error|warning|note' "shellcheck: no findings in ${#scripts[@]} scripts" \
    shellcheck -x -f gcc "${scripts[@]}"

# --- flake8 -----------------------------------------------------------------
# Every .py file under the repository root but the directories .flake8
# excludes (build*, .git, __pycache__), counted here the same way; findings
# in the "FILE:LINE:COL: error: ..." form of the checkers above.
echo "=== flake8 $("$lint_py" -m flake8 --version | sed -n '1s/ .*//p') ==="
py_files="$(find . \( -name .git -o -name 'build*' -o -name __pycache__ \) -prune -o \
    -type f -name '*.py' -print | wc -l)"
run_checker flake8 error "flake8: no findings in $py_files files" \
    "$lint_py" -m flake8 --format='%(path)s:%(row)d:%(col)d: error: %(code)s %(text)s' .

if ((findings > 0)); then
    echo "lint.sh: $findings finding(s)"
    exit 1
fi
echo "lint.sh: clean"
