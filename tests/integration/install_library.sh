#!/usr/bin/env bash
# secsock installs like any other library. `cmake --install` of this build
# into a temporary prefix, then:
#  - the layout: programs, libsecsock.so (SONAME libsecsock.so.0, versioned
#    file, symlinks) and libsecsock.a, headers, secsock.pc, the CMake
#    package, the five man pages, each formatting without a warning;
#  - the shared library exports exactly the functions the public headers
#    declare (nm -D vs gcc -aux-info, both ways), and nothing else;
#  - each public header compiles alone and together, warning-free, as C11
#    (-pedantic) and as C++17, and a C++ program links and calls the library;
#  - examples/echo_client.c built with `pkg-config --cflags --libs secsock`
#    echoes exactly through `tcp-server --echo`, in plaintext and verified
#    TLS (and refuses an unknown CA); built again after the prefix is moved
#    (the .pc file is relocatable), statically (pkg-config --static), and
#    with CMake through find_package(secsock) and secsock::secsock.
# In a sanitizer build the example is compiled with the same compiler and
# -fsanitize flags as the library, which needs their runtime.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUILD="$(dirname "$SECSOCK_BIN")"
[[ -f "$BUILD/CMakeCache.txt" ]] || fail "no CMakeCache.txt in $BUILD (SECSOCK_BIN=$SECSOCK_BIN)"
need cmake pkg-config nm readelf man python3 openssl gcc g++ "$SECSOCK_BIN/tcp-server"

cache_value() { # NAME : a value from the build's CMakeCache.txt
    sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt" | head -n 1
}
CC="$(cache_value CMAKE_C_COMPILER)"
[[ -n "$CC" ]] || CC=gcc
SAN=()
case "$(cache_value SECSOCK_SANITIZE)" in
    "") ;;
    address) SAN=("-fsanitize=address,undefined" -fno-omit-frame-pointer) ;;
    thread) SAN=(-fsanitize=thread) ;;
    *) fail "unknown SECSOCK_SANITIZE in $BUILD/CMakeCache.txt" ;;
esac
# The C++ compiler that goes with CC, for the program that links the library.
case "$(basename "$CC")" in
    clang*) CXX="$(dirname "$CC")/clang++${CC##*clang}" ;;
    *) CXX=g++ ;;
esac
need "$CC" "$CXX"
VERSION="$("$SECSOCK_BIN/tcp-server" --version | awk 'NR == 1 {print $2}')"
[[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "cannot read the version: [$VERSION]"
MAJOR="${VERSION%%.*}"

PREFIX="$TEST_TMP/prefix"
capture cmake --install "$BUILD" --prefix "$PREFIX"
assert_capture 0 "cmake --install $BUILD --prefix $PREFIX"
PC="$(find "$PREFIX" -name secsock.pc)"
[[ -n "$PC" ]] || fail "no secsock.pc installed: $(cd "$PREFIX" && find . | sort)"
LIBDIR="$(dirname "$(dirname "$PC")")"
INC="$PREFIX/include"
export PKG_CONFIG_PATH="$LIBDIR/pkgconfig"

make_pki "$TEST_TMP/pki"
PKI="$TEST_TMP/pki"
MSG_PLAIN='hello, secsock: plain text   with  spaces, "quotes" and a tab	end'
MSG_TLS='hello over TLS'

# echo_check EXE [ARGS...] : runs an echo client against the plain and TLS
# echo servers of this case; the echo must be exact.
echo_check() {
    # shellcheck disable=SC2034 # the pids are for lib.sh, which stops them
    local exe="$1" pid="" port="" tpid="" tport="" big
    shift
    start_server pid port "$SECSOCK_BIN/tcp-server" --echo -p 0
    start_server tpid tport "$SECSOCK_BIN/tcp-server" --echo --tls \
        --cert "$PKI/server.crt" --key "$PKI/server.key" -p 0
    capture "$exe" 127.0.0.1 "$port" "$MSG_PLAIN"
    assert_capture 0 "$exe (plain)"
    assert_eq "$MSG_PLAIN" "$CAP_OUT" "plain echo"
    capture "$exe" --tls --cafile "$PKI/ca.crt" localhost "$tport" "$MSG_TLS"
    assert_capture 0 "$exe --tls"
    assert_eq "$MSG_TLS" "$CAP_OUT" "TLS echo"
    # More than one read's worth, over TLS.
    big="$(python3 -c 'print("".join("%06d:secsock " % i for i in range(7000)), end="")')"
    capture "$exe" --tls --cafile "$PKI/ca.crt" localhost "$tport" "$big"
    assert_capture 0 "$exe --tls, ${#big} bytes"
    [[ "$CAP_OUT" == "$big" ]] || fail "TLS echo of ${#big} bytes differs (got ${#CAP_OUT} bytes)"
    # Verification is on: the test CA is not in the system store.
    capture "$exe" --tls localhost "$tport" "$MSG_TLS"
    assert_capture 1 "$exe --tls without --cafile"
    assert_contains "$CAP_ERR" "certificate verify failed" "stderr without --cafile"
    assert_eq "" "$CAP_OUT" "output without --cafile"
}

# uses_lib EXE DIR : EXE loads libsecsock.so.MAJOR from DIR.
uses_lib() {
    local line
    line="$(ldd "$1" | grep "libsecsock.so.$MAJOR" || true)"
    assert_contains "$line" "=> $2/libsecsock.so.$MAJOR" "ldd $1"
}

case_layout() {
    local f
    for f in bin/tcp-client bin/tcp-server bin/udp-client bin/udp-server; do
        [[ -x "$PREFIX/$f" ]] || fail "not installed: $f"
    done
    for f in include/secsock/api.h include/secsock/security.h include/secsock/transport.h \
        share/man/man1/tcp-client.1 share/man/man1/tcp-server.1 share/man/man1/udp-client.1 \
        share/man/man1/udp-server.1 share/man/man3/secsock.3; do
        [[ -f "$PREFIX/$f" ]] || fail "not installed: $f"
    done
    for f in libsecsock.a "libsecsock.so.$VERSION" cmake/secsock/secsockConfig.cmake \
        cmake/secsock/secsockConfigVersion.cmake cmake/secsock/secsockTargets.cmake; do
        [[ -f "$LIBDIR/$f" ]] || fail "not installed: $LIBDIR/$f"
    done
    assert_eq "libsecsock.so.$MAJOR" "$(readlink "$LIBDIR/libsecsock.so")" "libsecsock.so ->"
    assert_eq "libsecsock.so.$VERSION" "$(readlink "$LIBDIR/libsecsock.so.$MAJOR")" \
        "libsecsock.so.$MAJOR ->"
    local soname
    soname="$(readelf -d "$LIBDIR/libsecsock.so.$VERSION" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
    assert_eq "libsecsock.so.0" "$soname" "SONAME"
    assert_eq "$VERSION" "$(pkg-config --modversion secsock)" "pkg-config --modversion"
    # The installed programs are the built ones, and run.
    capture "$PREFIX/bin/tcp-client" --version
    assert_capture 0 "installed tcp-client --version"
    assert_eq "tcp-client $VERSION" "${CAP_OUT%%$'\n'*}" "installed tcp-client --version"
}

case_man_pages() {
    local page warn n=0 names=""
    for page in "$PREFIX"/share/man/man1/* "$PREFIX"/share/man/man3/*; do
        n=$((n + 1))
        names+=" ${page##*/}"
        warn="$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$page" 2>&1 >/dev/null)" ||
            fail "man -l $page failed: $warn"
        [[ -z "$warn" ]] || fail "man --warnings -l $page: $warn"
        capture env MANWIDTH=80 man -l "$page"
        assert_capture 0 "man -l $page"
        assert_contains "$CAP_OUT" "EXAMPLES" "man -l $page"
    done
    assert_eq " tcp-client.1 tcp-server.1 udp-client.1 udp-server.1 secsock.3" "$names" \
        "installed man pages"
}

# Exported symbols (nm -D) = functions declared in the installed headers.
case_exports() {
    printf '#include <secsock/transport.h>\n' >"$TEST_TMP/all.c"
    gcc -std=c11 -fsyntax-only -I"$INC" -aux-info "$TEST_TMP/aux.txt" "$TEST_TMP/all.c" ||
        fail "the installed headers do not compile"
    grep -F "$INC/secsock/" "$TEST_TMP/aux.txt" |
        sed -E 's/^.*\*\/ *//; s/ \(.*//; s/.*[ *]//' | sort -u >"$TEST_TMP/declared"
    (($(wc -l <"$TEST_TMP/declared") >= 30)) ||
        fail "too few functions in the headers: $(cat "$TEST_TMP/declared")"
    nm -D --defined-only "$LIBDIR/libsecsock.so" >"$TEST_TMP/nm" || fail "nm -D failed"
    awk '{print $NF}' "$TEST_TMP/nm" | sort -u >"$TEST_TMP/exported"
    if ! diff -u --label declared --label exported "$TEST_TMP/declared" "$TEST_TMP/exported" \
        >"$TEST_TMP/exports.diff"; then
        fail "libsecsock.so exports differ from the public headers (- declared, not exported; + exported, not declared):
$(grep -E '^[-+][^-+]' "$TEST_TMP/exports.diff")"
    fi
    # Functions only: no exported data.
    local data
    data="$(awk '$(NF-1) != "T" {print}' "$TEST_TMP/nm")"
    assert_eq "" "$data" "exported symbols that are not functions"
}

# Each header alone and all together, as C11 and as C++17, warning-free.
case_headers_compile() {
    local h src
    for h in "$INC"/secsock/*.h "$INC/secsock/transport.h $INC/secsock/security.h $INC/secsock/api.h"; do
        src=""
        for f in $h; do src+="#include <secsock/${f##*/}>"$'\n'; done
        src+=$'int secsock_header_check;\n'
        printf '%s' "$src" >"$TEST_TMP/h.c"
        printf '%s' "$src" >"$TEST_TMP/h.cpp"
        capture gcc -std=c11 -Wall -Wextra -Werror -pedantic -Wstrict-prototypes \
            -fsyntax-only -I"$INC" "$TEST_TMP/h.c"
        assert_capture 0 "C11: $src"
        capture g++ -std=c++17 -Wall -Wextra -Werror -pedantic -fsyntax-only -I"$INC" \
            "$TEST_TMP/h.cpp"
        assert_capture 0 "C++17: $src"
    done
    # extern "C" really holds: a C++ program links the library and calls it.
    cat >"$TEST_TMP/call.cpp" <<'EOF'
#include <secsock/transport.h>
#include <cstdio>
int main()
{
    secsock_config *cfg = secsock_config_new();
    int bad = secsock_config_set_min_version(cfg, "1.1");
    std::printf("%s|%d|%s\n", secsock_status_name(SECSOCK_ERR_TIMEOUT), bad,
                secsock_config_error(cfg));
    secsock_config_free(cfg);
    return 0;
}
EOF
    # shellcheck disable=SC2046 # pkg-config's words are separate arguments
    capture "$CXX" -std=c++17 -Wall -Wextra -Werror "${SAN[@]}" -o "$TEST_TMP/call" \
        "$TEST_TMP/call.cpp" $(pkg-config --cflags --libs secsock) -Wl,-rpath,"$LIBDIR"
    assert_capture 0 "C++ program linked with libsecsock"
    capture "$TEST_TMP/call"
    assert_capture 0 "the C++ program"
    assert_eq "timeout|-1|invalid minimum TLS version '1.1': want 1.2 or 1.3" \
        "${CAP_OUT%$'\n'}" "the C++ program's output"
}

build_with_pkg_config() { # OUT [pkg-config flags...]
    local out="$1"
    shift
    # shellcheck disable=SC2046
    capture "$CC" -std=c11 -Wall -Wextra -Werror -pedantic "${SAN[@]}" -o "$out" \
        "$SECSOCK_SRC/examples/echo_client.c" $(pkg-config "$@" secsock)
    assert_capture 0 "build echo_client with pkg-config $*"
}

case_example_pkg_config() {
    local flags
    flags="$(pkg-config --cflags --libs secsock)" || fail "pkg-config --cflags --libs secsock failed"
    assert_contains "$flags" "-lsecsock" "pkg-config --libs"
    build_with_pkg_config "$TEST_TMP/echo_client" --cflags --libs
    # Found through the runtime path only when told where: LD_LIBRARY_PATH here.
    export LD_LIBRARY_PATH="$LIBDIR"
    uses_lib "$TEST_TMP/echo_client" "$LIBDIR"
    echo_check "$TEST_TMP/echo_client"
}

# The prefix moved after installation (so nothing may point to the old
# place): the .pc file still points inside it. Runs last: it moves $PREFIX.
case_relocated() {
    local moved="$TEST_TMP/moved"
    mv "$PREFIX" "$moved"
    local libdir="${LIBDIR/#$PREFIX/$moved}"
    export PKG_CONFIG_PATH="$libdir/pkgconfig"
    assert_contains "$(pkg-config --libs secsock)" "$moved/" "pkg-config --libs after a move"
    # shellcheck disable=SC2046
    capture "$CC" -std=c11 "${SAN[@]}" -o "$TEST_TMP/echo_moved" \
        "$SECSOCK_SRC/examples/echo_client.c" $(pkg-config --cflags --libs secsock) \
        -Wl,-rpath,"$libdir"
    assert_capture 0 "build echo_client against the moved prefix"
    uses_lib "$TEST_TMP/echo_moved" "$libdir"
    echo_check "$TEST_TMP/echo_moved"
}

# pkg-config --static: libsecsock.a and its private dependencies.
case_example_static() {
    local flags
    flags="$(pkg-config --static --libs secsock)"
    flags="${flags/-lsecsock/$LIBDIR/libsecsock.a}"
    # shellcheck disable=SC2046,SC2086 # words on purpose
    capture "$CC" -std=c11 "${SAN[@]}" -o "$TEST_TMP/echo_static" \
        "$SECSOCK_SRC/examples/echo_client.c" $(pkg-config --cflags secsock) $flags
    assert_capture 0 "build echo_client with libsecsock.a (pkg-config --static)"
    assert_not_contains "$(ldd "$TEST_TMP/echo_static")" "libsecsock" "ldd of the static build"
    echo_check "$TEST_TMP/echo_static"
}

case_example_cmake() {
    capture cmake -S "$SECSOCK_SRC/examples" -B "$TEST_TMP/cmake-build" \
        -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_C_COMPILER="$CC" \
        -DCMAKE_C_FLAGS="-Wall -Wextra -Werror -pedantic ${SAN[*]}" \
        -DCMAKE_EXE_LINKER_FLAGS="${SAN[*]}" -DCMAKE_BUILD_TYPE=Release
    assert_capture 0 "cmake configure of examples/ with find_package(secsock)"
    capture cmake --build "$TEST_TMP/cmake-build"
    assert_capture 0 "cmake --build of examples/"
    local exe="$TEST_TMP/cmake-build/echo_client"
    [[ -x "$exe" ]] || fail "no $exe"
    # No LD_LIBRARY_PATH: CMake's build RPATH finds the installed library.
    uses_lib "$exe" "$LIBDIR"
    echo_check "$exe"
}

run_case "installed layout, SONAME, version" case_layout
run_case "man pages: man --warnings -l" case_man_pages
run_case "exported symbols = public headers" case_exports
run_case "headers compile as C11 and C++17" case_headers_compile
run_case "example via pkg-config, plain and TLS" case_example_pkg_config
run_case "example via pkg-config --static" case_example_static
run_case "example via find_package(secsock)" case_example_cmake
run_case "example via pkg-config, relocated prefix" case_relocated
finish_cases
