"""`voicebot script prompts SCRIPT`: what to record for a script's prompt pack, and what a
folder of recordings still lacks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from voicebot.policy.schema import load_script
from voicebot.tts.prompt_pack import PromptLine, check_pack, pack_folder, prompt_lines


def show_prompts(
    script_path: Path,
    language: str | None = None,
    recordings: Path | None = None,
    write: Callable[[str], None] = print,
) -> int:
    """List every file to record (with its words) and every synthesised variable; check the
    recordings folder (given, or the script's `prompts`). Exit status 1 when it lacks any."""
    script = load_script(script_path)
    language = language or script.languages[0]
    lines = prompt_lines(script, language)
    for line in lines:
        write(_describe(line))
    folder = recordings or pack_folder(script, script_path, language)
    files = sum(1 for line in lines for p in line.parts if p.file)
    write(f"{len(lines)} line(s), {files} file(s) to record")
    if folder is None:
        write("no recordings folder: set `prompts:` in the script or pass --recordings")
        return 0
    report = check_pack(lines, folder)
    for name in report.missing:
        write(f"missing: {folder / name}")
    for name in report.extra:
        write(f"extra (no line uses it): {folder / name}")
    for name, problems in report.problems.items():
        for problem in problems:
            write(f"{folder / name}: {problem}")
    usable = files - len(report.missing) - len(report.problems)
    write(f"{folder}: {usable} of {files} recording(s) usable")
    return 0 if report.ok else 1


def _describe(line: PromptLine) -> str:
    parts = [
        f"  {p.file}: {p.text!r}" if p.file else f"  (synthesised) {p.text}" for p in line.parts
    ]
    return "\n".join([f"{line.where}:", *parts])
