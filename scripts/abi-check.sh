#!/usr/bin/env bash
# The library's ABI, as the linker sees it, against what is committed:
#  - the functions libsecsock.so exports (nm -D) must be exactly those listed
#    in abi/libsecsock.symbols, so a change to the ABI is a visible change to
#    that file (removing or renaming one breaks every program built against
#    SOVERSION 1: that is a new major version);
#  - every global symbol libsecsock.a defines must start with secsock_ (the
#    internal ones are localized when it is made), so none clashes with a
#    user's own names.
# Usage: scripts/abi-check.sh BUILD_DIR           check (a ctest entry)
#        scripts/abi-check.sh BUILD_DIR --update  rewrite abi/libsecsock.symbols
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
list="$root/abi/libsecsock.symbols"

if [[ $# -lt 1 || $# -gt 2 || ( $# -eq 2 && $2 != --update ) ]]; then
    echo "usage: scripts/abi-check.sh BUILD_DIR [--update]" >&2
    exit 2
fi
build="$1"
so="$build/libsecsock.so"
archive="$build/libsecsock.a"
for f in "$so" "$archive"; do
    if [[ ! -e $f ]]; then
        echo "abi-check: no $f: build the library first (cmake --build $build)" >&2
        exit 2
    fi
done

# nm -D rows are "ADDRESS TYPE NAME": the names of what is defined. Names
# in the implementation's space (__asan_..., __odr_asan_gen_... of a
# sanitizer build) are the compiler's, not the library's.
exported="$(nm -D --defined-only "$so" | awk 'NF == 3 && $3 !~ /^__/ { print $3 }' |
            LC_ALL=C sort -u)"

if [[ ${2:-} == --update ]]; then
    printf '%s\n' "$exported" >"$list"
    echo "abi-check: wrote $(wc -l <"$list") symbols to abi/libsecsock.symbols"
    exit 0
fi

status=0
if ! diff_out="$(diff -u --label "abi/libsecsock.symbols" --label "$so" "$list" \
                      <(printf '%s\n' "$exported"))"; then
    echo "abi-check: libsecsock.so exports differ from abi/libsecsock.symbols" >&2
    echo "  (-: listed, no longer exported: an ABI break; +: new, not listed)" >&2
    printf '%s\n' "$diff_out" | grep '^[-+][^-+]' >&2 || true
    echo "  an intended change: scripts/abi-check.sh $build --update, and commit it" >&2
    status=1
fi

stray="$(nm -g --defined-only "$archive" | awk 'NF == 3 && $3 !~ /^secsock_/ { print $3 }' |
         LC_ALL=C sort -u)"
if [[ -n $stray ]]; then
    echo "abi-check: libsecsock.a defines global symbols without the secsock_ prefix:" >&2
    printf '  %s\n' "$stray" >&2
    echo "  make them static, or keep them out of SECSOCK_API (they are then localized)" >&2
    status=1
fi
[[ $status -eq 0 ]] && echo "abi-check: $(wc -l <"$list") exported symbols as listed; libsecsock.a prefixed"
exit "$status"
