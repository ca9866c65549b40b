"""Errors a user can act on: each names the place (file, model, field) and, if possible, the fix."""


class VoicebotError(Exception):
    """Base class: the message is meant for the person running voicebot."""


class ModelError(VoicebotError):
    """A model is missing, incomplete or corrupt."""


class AudioFormatError(VoicebotError):
    """An audio file or buffer is not in a form voicebot can use."""


class ConfigError(VoicebotError):
    """A configuration value is invalid."""
