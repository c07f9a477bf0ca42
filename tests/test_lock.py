"""requirements.txt is the lock that `make lock` writes from requirements.in, and stays one.

A tool that recompiles requirements.in on its own (Dependabot's pip-compile runs on Linux against PyPI only)
would lock PyPI's CUDA torch and its nvidia-* libraries and drop the macOS entries: these tests fail then, and
`make lock` repairs the file.
"""

import re

from conftest import ROOT

GPU_ONLY = re.compile(r"(nvidia-.*|triton|pytorch-triton|cuda-.*)")


def entries() -> dict[str, list[tuple[str, list[str]]]]:
    """{name: [(the requirement line, its hashes)]}: one entry per platform when markers split it."""
    locked: dict[str, list[tuple[str, list[str]]]] = {}
    for block in re.split(r"(?m)^(?=[^\s#])", (ROOT / "requirements.txt").read_text()):
        if not block.strip() or block.startswith("#"):
            continue
        requirement = block.splitlines()[0].rstrip(" \\")
        name = re.match(r"[A-Za-z0-9._-]+", requirement).group(0).lower().replace("_", "-")
        locked.setdefault(name, []).append((requirement, re.findall(r"--hash=sha256:([0-9a-f]{64})", block)))
    return locked


def pins() -> dict[str, str]:
    text = (ROOT / "requirements.in").read_text()
    return {name.lower(): version for name, version in re.findall(r"(?m)^([A-Za-z0-9._-]+)==(\S+)", text)}


def test_every_entry_is_pinned_and_hashed():
    for name, platforms in entries().items():
        for requirement, hashes in platforms:
            assert re.match(rf"{re.escape(name)}==\S+", requirement, re.IGNORECASE), requirement
            assert hashes, f"{requirement}: no --hash (pip install --require-hashes would refuse the whole file)"


def test_the_lock_holds_every_pin_of_requirements_in_at_its_version():
    locked = entries()
    for name, version in pins().items():
        if name == "torch":
            continue
        assert name in locked, f"{name} is in requirements.in but not in requirements.txt: run `make lock`"
        assert [r.split(" ;")[0] for r, _ in locked[name]] == [f"{name}=={version}"], "run `make lock`"


def test_torch_is_the_cpu_build_on_linux_and_pypi_s_on_macos():
    version = pins()["torch"]
    torch = [requirement for requirement, _ in entries()["torch"]]
    assert torch == [f"torch=={version}+cpu ; sys_platform == 'linux'", f"torch=={version} ; sys_platform == 'darwin'"]


def test_no_gpu_library_is_locked():
    assert not [name for name in entries() if GPU_ONLY.fullmatch(name)], "PyPI's CUDA torch was locked: `make lock`"
