"""Errors a user can act on: each names the place (file, model, field) and, if possible, the fix."""


class VoicebotError(Exception):
    """Base class: the message is meant for the person running voicebot."""


class ModelError(VoicebotError):
    """A model is missing, incomplete or corrupt."""


class AudioFormatError(VoicebotError):
    """An audio file or buffer is not in a form voicebot can use."""


class ConfigError(VoicebotError):
    """A configuration value is invalid."""


def yaml_problem(path: object, error: Exception) -> str:
    """`file:line:column: what is wrong` for a YAML parse error, without quoting the line (it
    may hold a password)."""
    mark = getattr(error, "problem_mark", None)
    where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
    problem = getattr(error, "problem", None) or "not valid YAML"
    context = getattr(error, "context", None)
    column = f"column {mark.column + 1}" if mark is not None else None
    details = ", ".join(d for d in (context, column) if d)
    return f"{where}: not valid YAML: {problem}" + (f" ({details})" if details else "")
