"""secsock installs like any other library. `cmake --install` of the build
under test into a temporary prefix, then:
 - the layout: programs, libsecsock.so (SONAME libsecsock.so.1, versioned
   file, symlinks) and libsecsock.a, headers, secsock.pc, the CMake
   package, the five man pages, each formatting without a warning;
 - the shared library exports exactly the functions the public headers
   declare (nm -D vs gcc -aux-info, both ways), and nothing else;
 - each public header compiles alone and together, warning-free, as C11
   (-pedantic) and as C++17, and a C++ program links and calls the library;
 - examples/echo_client.c built with `pkg-config --cflags --libs secsock`
   echoes exactly through `tcp-server --echo`, in plaintext and verified
   TLS (and refuses an unknown CA); built again after the prefix is moved
   (the .pc file is relocatable), statically (pkg-config --static), and
   with CMake through find_package(secsock) and secsock::secsock.
In a sanitizer build the example is compiled with the same compiler and
-fsanitize flags as the library, which needs their runtime. Everything is
built in the test's own temporary directories, never in the build tree."""

import difflib
import glob
import os
import re
import shutil
from dataclasses import dataclass

import pytest

from harness.procs import run as run_cmd
from harness.system import SRC, need
from public_api import declared_functions, man_warnings

EXAMPLE = os.path.join(SRC, "examples", "echo_client.c")
MSG_PLAIN = 'hello, secsock: plain text   with  spaces, "quotes" and a tab\tend'
MSG_TLS = "hello over TLS"


@dataclass
class Toolchain:
    """How the build under test was made: the directory, its C compiler,
    the matching C++ compiler, and its -fsanitize flags."""

    build: str
    cc: str
    cxx: str
    san: list
    # -DOPENSSL_ROOT_DIR of the build (scripts/openssl.sh's 3.5 or 4.x), ""
    # for the system's: what uses the library must find the same OpenSSL.
    ossl_root: str = ""

    def ossl_link_flags(self):
        """Where the static example finds that libssl at run time."""
        return [f"-Wl,-rpath,{self.ossl_root}/lib"] if self.ossl_root else []


@dataclass
class Install:
    """An installed prefix: where the library, headers and .pc file are."""

    prefix: str
    libdir: str
    include: str
    version: str
    ossl_root: str = ""

    @property
    def major(self):
        return self.version.split(".")[0]

    def pkg_env(self):
        path = [os.path.join(self.libdir, "pkgconfig")]
        if self.ossl_root:  # Requires.private: openssl, the build's
            path.append(os.path.join(self.ossl_root, "lib", "pkgconfig"))
        return {"PKG_CONFIG_PATH": ":".join(path)}

    def pkg_config(self, *args):
        """pkg-config ARGS secsock, as a list of words."""
        r = run_cmd(["pkg-config", *args, "secsock"], env=self.pkg_env()).expect(
            0, f"pkg-config {' '.join(args)} secsock")
        return r.out.split()


def cache_value(build, name):
    """A value from the build's CMakeCache.txt ("" when absent)."""
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        for line in f:
            m = re.match(rf"^{re.escape(name)}:[A-Z]*=(.*)$", line.rstrip("\n"))
            if m:
                return m.group(1)
    return ""


@pytest.fixture(scope="module")
def toolchain(bin_dir):
    build = os.path.dirname(bin_dir)
    if not os.path.isfile(os.path.join(build, "CMakeCache.txt")):
        pytest.fail(f"no CMakeCache.txt in {build} (--bin {bin_dir})")
    need("cmake", "pkg-config", "nm", "readelf", "ldd", "man", "openssl", "gcc", "g++")
    cc = cache_value(build, "CMAKE_C_COMPILER") or "gcc"
    san = {"": [], "address": ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"],
           "thread": ["-fsanitize=thread"]}.get(cache_value(build, "SECSOCK_SANITIZE"))
    if san is None:
        pytest.fail(f"unknown SECSOCK_SANITIZE in {build}/CMakeCache.txt")
    # The C++ compiler that goes with CC, for the program that links the library.
    base = os.path.basename(cc)
    if base.startswith("clang"):
        cxx = os.path.join(os.path.dirname(cc), "clang++" + base[len("clang"):])
    else:
        cxx = "g++"
    need(cc, cxx)
    return Toolchain(build, cc, cxx, san, cache_value(build, "OPENSSL_ROOT_DIR"))


def install(toolchain, prefix, version):
    """cmake --install of the build under test into prefix."""
    run_cmd(["cmake", "--install", toolchain.build, "--prefix", prefix]).expect(0)
    pcs = [os.path.join(d, f) for d, _, files in os.walk(prefix) for f in files
           if f == "secsock.pc"]
    assert pcs, f"no secsock.pc installed: {sorted(os.listdir(prefix))}"
    libdir = os.path.dirname(os.path.dirname(pcs[0]))
    return Install(prefix, libdir, os.path.join(prefix, "include"), version,
                   toolchain.ossl_root)


@pytest.fixture(scope="module")
def version(toolchain, prog):
    r = run_cmd([prog("tcp-server"), "--version"]).expect(0)
    words = r.out.split()
    assert len(words) >= 2 and re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", words[1]), \
        f"cannot read the version: [{r.out}]"
    return words[1]


@pytest.fixture(scope="module")
def installed(toolchain, version, tmp_path_factory):
    return install(toolchain, str(tmp_path_factory.mktemp("install") / "prefix"), version)


def echo_check(server, run, pki, exe, env=None):
    """Runs an echo client against plain and TLS echo servers of its own;
    the echo must be exact, and an unknown CA refused."""
    plain = server("tcp-server", "--echo")
    tls = server("tcp-server", "--echo", "--tls", *pki.server_args())
    r = run([exe, "127.0.0.1", plain.port, MSG_PLAIN], env=env).expect(0, f"{exe} (plain)")
    assert r.out == MSG_PLAIN, "plain echo"
    r = run([exe, "--tls", "--cafile", pki.ca, "localhost", tls.port, MSG_TLS],
            env=env).expect(0, f"{exe} --tls")
    assert r.out == MSG_TLS, "TLS echo"
    # More than one read's worth, over TLS.
    big = "".join("%06d:secsock " % i for i in range(7000))
    r = run([exe, "--tls", "--cafile", pki.ca, "localhost", tls.port, big],
            env=env).expect(0, f"{exe} --tls, {len(big)} bytes")
    assert r.out == big, f"TLS echo of {len(big)} bytes differs (got {len(r.out)} bytes)"
    # Verification is on: the test CA is not in the system store.
    r = run([exe, "--tls", "localhost", tls.port, MSG_TLS], env=env).expect(
        1, f"{exe} --tls without --cafile")
    assert "certificate verify failed" in r.err, "stderr without --cafile"
    assert r.out == "", "output without --cafile"


def uses_lib(exe, libdir, major, env=None):
    """exe loads libsecsock.so.MAJOR from libdir."""
    r = run_cmd(["ldd", exe], env=env).expect(0)
    line = "\n".join(x for x in r.out.splitlines() if f"libsecsock.so.{major}" in x)
    assert f"=> {libdir}/libsecsock.so.{major}" in line, f"ldd {exe}:\n{r.out}"


def test_installed_layout_soname_version(installed, run):
    prefix, libdir, version, major = (installed.prefix, installed.libdir, installed.version,
                                      installed.major)
    for f in ("bin/tcp-client", "bin/tcp-server", "bin/udp-client", "bin/udp-server"):
        assert os.access(os.path.join(prefix, f), os.X_OK), f"not installed: {f}"
    for f in ("include/secsock/api.h", "include/secsock/security.h",
              "include/secsock/transport.h", "share/man/man1/tcp-client.1",
              "share/man/man1/tcp-server.1", "share/man/man1/udp-client.1",
              "share/man/man1/udp-server.1", "share/man/man3/secsock.3"):
        assert os.path.isfile(os.path.join(prefix, f)), f"not installed: {f}"
    for f in ("libsecsock.a", f"libsecsock.so.{version}", "cmake/secsock/secsockConfig.cmake",
              "cmake/secsock/secsockConfigVersion.cmake", "cmake/secsock/secsockTargets.cmake"):
        assert os.path.isfile(os.path.join(libdir, f)), f"not installed: {libdir}/{f}"
    assert os.readlink(os.path.join(libdir, "libsecsock.so")) == f"libsecsock.so.{major}"
    assert os.readlink(os.path.join(libdir, f"libsecsock.so.{major}")) == \
        f"libsecsock.so.{version}"
    r = run(["readelf", "-d", os.path.join(libdir, f"libsecsock.so.{version}")]).expect(0)
    soname = re.findall(r"\(SONAME\).*\[(.*)\]", r.out)
    assert soname == [f"libsecsock.so.{major}"] and major == "1", "SONAME"
    assert installed.pkg_config("--modversion") == [version], "pkg-config --modversion"
    # The installed programs are the built ones, and run.
    r = run([os.path.join(prefix, "bin", "tcp-client"), "--version"]).expect(0)
    assert r.out.splitlines()[0] == f"tcp-client {version}"  # then the OpenSSL lines


def test_man_pages_format_without_warnings(installed, run):
    pages = (sorted(glob.glob(os.path.join(installed.prefix, "share/man/man1/*")))
             + sorted(glob.glob(os.path.join(installed.prefix, "share/man/man3/*"))))
    for page in pages:
        warnings = man_warnings(page)
        assert warnings == "", f"man --warnings -l {page}: {warnings}"
        r = run(["man", "-l", page], env={"MANWIDTH": "80"}).expect(0)
        assert "EXAMPLES" in r.out, f"man -l {page}"
    assert [os.path.basename(p) for p in pages] == [
        "tcp-client.1", "tcp-server.1", "udp-client.1", "udp-server.1", "secsock.3"]


def test_exported_symbols_are_the_public_headers(installed, run, tmp_path):
    """Exported symbols (nm -D) = functions declared in the installed headers."""
    declared = declared_functions(installed.include, str(tmp_path))
    assert len(declared) >= 30, f"too few functions in the headers: {declared}"
    nm = run(["nm", "-D", "--defined-only", os.path.join(installed.libdir, "libsecsock.so")])
    nm.expect(0)
    rows = [line.split() for line in nm.out.splitlines() if line.strip()]
    exported = sorted({row[-1] for row in rows})
    if declared != exported:
        diff = [line for line in difflib.unified_diff(declared, exported, "declared", "exported",
                                                      lineterm="")
                if re.match(r"^[-+][^-+]", line)]
        pytest.fail("libsecsock.so exports differ from the public headers (- declared, not "
                    "exported; + exported, not declared):\n" + "\n".join(diff), pytrace=False)
    # Functions only: no exported data.
    data = [" ".join(row) for row in rows if len(row) < 2 or row[-2] != "T"]
    assert data == [], "exported symbols that are not functions"


def test_static_library_leaks_no_internal_symbol(installed, run, tmp_path):
    """libsecsock.a defines, globally, exactly the functions of the public
    headers: the internal ones (net_connect, ossl_*, conn_wait...) are
    local, so they cannot clash with a user's own names."""
    declared = declared_functions(installed.include, str(tmp_path))
    nm = run(["nm", "-g", "--defined-only", os.path.join(installed.libdir, "libsecsock.a")])
    nm.expect(0)
    defined = sorted({row[-1] for row in (line.split() for line in nm.out.splitlines())
                      if len(row) == 3})
    stray = [name for name in defined if not name.startswith("secsock_")]
    assert stray == [], f"global symbols of libsecsock.a without the secsock_ prefix: {stray}"
    assert defined == declared, "libsecsock.a's global symbols differ from the public headers"


def test_headers_compile_alone_and_together(installed, run, tmp_path):
    """Each header alone and all together, as C11 and as C++17,
    warning-free."""
    inc = installed.include
    sets = [[os.path.basename(h)] for h in sorted(glob.glob(os.path.join(inc, "secsock/*.h")))]
    sets.append(["transport.h", "security.h", "api.h"])
    for headers in sets:
        src = "".join(f"#include <secsock/{h}>\n" for h in headers) + "int secsock_header_check;\n"
        (tmp_path / "h.c").write_text(src)
        (tmp_path / "h.cpp").write_text(src)
        run(["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic",
             "-Wstrict-prototypes", "-fsyntax-only", f"-I{inc}", tmp_path / "h.c"]).expect(
            0, f"C11: {src}")
        run(["g++", "-std=c++17", "-Wall", "-Wextra", "-Werror", "-pedantic", "-fsyntax-only",
             f"-I{inc}", tmp_path / "h.cpp"]).expect(0, f"C++17: {src}")


CALL_CPP = r"""#include <secsock/secsock.h>
#include <cstdio>
int main()
{
    secsock_config *cfg = nullptr;
    if (secsock_config_new(&cfg) != SECSOCK_OK)
        return 1;
    enum secsock_status bad = secsock_config_set_min_version(cfg, "1.1");
    std::printf("%s|%s|%s|%s|%x\n", secsock_version(), secsock_status_name(bad),
                secsock_config_error(cfg), secsock_status_name(SECSOCK_ERR_TIMEOUT),
                SECSOCK_API_VERSION);
    secsock_config_free(cfg);
    return 0;
}
"""


def test_cxx_program_links_and_calls_the_library(installed, toolchain, run, tmp_path):
    """extern "C" really holds: a C++ program links the library and calls it."""
    (tmp_path / "call.cpp").write_text(CALL_CPP)
    exe = tmp_path / "call"
    run([toolchain.cxx, "-std=c++17", "-Wall", "-Wextra", "-Werror", *toolchain.san, "-o", exe,
         tmp_path / "call.cpp", *installed.pkg_config("--cflags", "--libs"),
         f"-Wl,-rpath,{installed.libdir}"]).expect(0, "C++ program linked with libsecsock")
    r = run([exe]).expect(0)
    major, minor, patch = (int(x) for x in installed.version.split("."))
    assert r.out.removesuffix("\n") == (
        f"{installed.version}|configuration error|"
        "invalid minimum TLS version '1.1': want 1.2 or 1.3|timeout|"
        f"{major << 16 | minor << 8 | patch:x}")


def build_example(toolchain, out, compile_flags, link_flags=(), strict=True):
    """examples/echo_client.c built with the library's compiler and
    sanitizer flags (strict: -Wall -Wextra -Werror -pedantic too)."""
    warnings = ["-Wall", "-Wextra", "-Werror", "-pedantic"] if strict else []
    run_cmd([toolchain.cc, "-std=c11", *warnings, *toolchain.san, "-o", out, EXAMPLE,
             *compile_flags, *link_flags]).expect(0, f"build echo_client {' '.join(compile_flags)}")
    return out


def test_example_via_pkg_config(installed, toolchain, server, run, pki, tmp_path):
    flags = installed.pkg_config("--cflags", "--libs")
    assert "-lsecsock" in flags, "pkg-config --libs"
    exe = build_example(toolchain, tmp_path / "echo_client", flags)
    # Found through the runtime path only when told where: LD_LIBRARY_PATH here.
    env = {"LD_LIBRARY_PATH": installed.libdir}
    uses_lib(exe, installed.libdir, installed.major, env)
    echo_check(server, run, pki, exe, env)


def test_example_via_pkg_config_static(installed, toolchain, server, run, pki, tmp_path):
    """pkg-config --static: libsecsock.a and its private dependencies."""
    libs = installed.pkg_config("--static", "--libs")
    assert "-lsecsock" in libs
    libs[libs.index("-lsecsock")] = os.path.join(installed.libdir, "libsecsock.a")
    exe = build_example(toolchain, tmp_path / "echo_static", installed.pkg_config("--cflags"),
                        libs + toolchain.ossl_link_flags(), strict=False)
    r = run(["ldd", exe]).expect(0)
    assert "libsecsock" not in r.out, "ldd of the static build"
    echo_check(server, run, pki, exe)


def test_example_via_find_package(installed, toolchain, server, run, pki, tmp_path):
    build = tmp_path / "cmake-build"
    san = " ".join(toolchain.san)
    run(["cmake", "-S", os.path.join(SRC, "examples"), "-B", build,
         f"-DCMAKE_PREFIX_PATH={installed.prefix}", f"-DCMAKE_C_COMPILER={toolchain.cc}",
         f"-DCMAKE_C_FLAGS=-Wall -Wextra -Werror -pedantic {san}",
         f"-DCMAKE_EXE_LINKER_FLAGS={san}", "-DCMAKE_BUILD_TYPE=Release"]
        + ([f"-DOPENSSL_ROOT_DIR={toolchain.ossl_root}"] if toolchain.ossl_root else [])).expect(
        0, "cmake configure of examples/ with find_package(secsock)")
    run(["cmake", "--build", build]).expect(0, "cmake --build of examples/")
    exe = build / "echo_client"
    assert os.access(exe, os.X_OK), f"no {exe}"
    # No LD_LIBRARY_PATH: CMake's build RPATH finds the installed library.
    uses_lib(exe, installed.libdir, installed.major)
    echo_check(server, run, pki, exe)


def test_example_via_pkg_config_relocated_prefix(toolchain, version, server, run, pki,
                                                 tmp_path):
    """The prefix moved after installation (so nothing may point to the old
    place): the .pc file still points inside it. An install of its own, so
    moving it leaves the other tests' prefix alone."""
    first = install(toolchain, str(tmp_path / "prefix"), version)
    moved = str(tmp_path / "moved")
    shutil.move(first.prefix, moved)
    libdir = moved + first.libdir[len(first.prefix):]
    relocated = Install(moved, libdir, os.path.join(moved, "include"), version,
                        toolchain.ossl_root)
    assert f"{moved}/" in " ".join(relocated.pkg_config("--libs")), "pkg-config --libs after a move"
    exe = build_example(toolchain, tmp_path / "echo_moved",
                        relocated.pkg_config("--cflags", "--libs"), [f"-Wl,-rpath,{libdir}"],
                        strict=False)
    uses_lib(exe, libdir, relocated.major)
    echo_check(server, run, pki, exe)
