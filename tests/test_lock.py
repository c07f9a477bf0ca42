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


# tools/lock.py's own steps, on small inputs (the real run needs uv and the network).

from tools import lock  # noqa: E402

UV_OUTPUT = """\
sympy==1.14.0 \\
    --hash=sha256:aaaa
    # via torch
torch==2.13.0+cpu ; sys_platform == 'linux'
    # via -r requirements.in
torch==2.13.0 ; sys_platform == 'darwin' \\
    --hash=sha256:cuda \\
    --hash=sha256:mac
    # via -r requirements.in
zipp==3.0 \\
    --hash=sha256:bbbb
"""


def test_lock_writes_torch_s_two_entries_with_their_own_files():
    linux = {"torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl": "1" * 64}
    macos = {"torch-2.13.0-cp311-cp311-macosx_14_0_arm64.whl": "2" * 64}
    text = lock.rewrite_torch(UV_OUTPUT, "2.13.0", linux, macos)
    assert "sympy==1.14.0 \\\n    --hash=sha256:aaaa\n    # via torch\n" in text
    assert "zipp==3.0 \\\n    --hash=sha256:bbbb\n" in text
    assert "cuda" not in text and "sha256:mac" not in text  # uv's macOS list held every PyPI wheel
    assert f"torch==2.13.0+cpu ; sys_platform == 'linux' \\\n    --hash=sha256:{'1' * 64}\n" in text
    assert f"torch==2.13.0 ; sys_platform == 'darwin' \\\n    --hash=sha256:{'2' * 64}\n" in text


def test_lock_reads_the_one_torch_pin():
    assert lock.torch_pin("numpy==2.4.6\ntorch==2.13.0  # CPU on Linux\n") == "2.13.0"


def test_lock_keeps_only_cp311_linux_cpu_wheels_of_the_version(monkeypatch):
    page = "".join(
        f'<a href="/whl/cpu/{name.replace("+", "%2B")}#sha256={digest}">{name}</a>\n'
        for name, digest in [
            ("torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl", "a" * 64),
            ("torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_aarch64.whl", "b" * 64),
            ("torch-2.13.0+cpu-cp312-cp312-manylinux_2_28_x86_64.whl", "c" * 64),
            ("torch-2.13.0+cpu-cp311-cp311-win_amd64.whl", "d" * 64),
            ("torch-2.12.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl", "e" * 64),
            ("torch-2.13.0-cp311-none-macosx_11_0_arm64.whl", "f" * 64),
        ]
    )
    monkeypatch.setattr(lock, "_get", lambda url, accept="text/html": page)
    assert lock.cpu_wheels("2.13.0") == {
        "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_aarch64.whl": "b" * 64,
        "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl": "a" * 64,
    }
