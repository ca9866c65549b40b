#!/usr/bin/env bash
# On a machine WITH internet: fetch alternative models into ./models/user, then point the config
# at them. voicebot itself never downloads at run time.
#   scripts/fetch_models.sh piper-zh     # piper zh_CN huayan medium voice
#   scripts/fetch_models.sh whisper-small
set -euo pipefail
dest=${DEST:-models/user}
mkdir -p "$dest"
case "${1:-}" in
  piper-zh)
    python3 -m piper.download_voices --download-dir "$dest" zh_CN-huayan-medium
    echo "set tts.zh_voice: $dest/zh_CN-huayan-medium.onnx" ;;
  whisper-small)
    python3 - "$dest" <<'PY'
import sys
from faster_whisper.utils import download_model
print(download_model("small", output_dir=f"{sys.argv[1]}/whisper-small"))
PY
    echo "set models.whisper-base: $dest/whisper-small" ;;
  *) echo "usage: $0 piper-zh | whisper-small" >&2; exit 2 ;;
esac
