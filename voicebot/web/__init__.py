"""The operator console: a FastAPI app (JSON API, server-rendered pages, live wallboard,
Prometheus metrics) on the campaign store. Needs the `voicebot[web]` extra."""
