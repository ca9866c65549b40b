"""The composition layer: the only room that knows every other one. It reads the user's config,
builds the stages for a script, and holds the entry points behind `voicebot ...` (call, console,
chat, demo, trial, campaign run) and the campaign trunks."""
