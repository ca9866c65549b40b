"""A baresip user agent on loopback: the far end of real SIP calls in tests and benchmarks.

It answers (or not: `answer="manual"` never answers, `"busy"` rejects with 486 through its
control port), plays a WAV into every call and records what it hears (sndfile: one
`dump-*-dec.wav` per call). Needs the Debian package baresip-core."""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Literal

import numpy as np

from voicebot.audio.wav import read_wav, write_wav
from voicebot.core.errors import VoicebotError

Answer = Literal["auto", "manual", "busy"]
CONFIG = """\
poll_method		epoll
sip_listen		127.0.0.1:{sip_port}
net_interface		127.0.0.1
call_local_timeout	120
audio_player		aubridge,nil
audio_alert		aubridge,nil
audio_source		{source}
ausrc_srate		8000
auplay_srate		8000
ausrc_channels		1
auplay_channels		1
rtp_ports		{rtp_low}-{rtp_high}
rtp_timeout		{rtp_timeout}
jitter_buffer_delay	1-4
module_path		/usr/lib/baresip/modules
module			g711.so
module			g722.so
module			aufile.so
module			aubridge.so
module			sndfile.so
module_app		menu.so
module_app		account.so
module_app		ctrl_tcp.so
ctrl_tcp_listen		127.0.0.1:{ctrl_port}
snd_path		{record_dir}
"""


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BaresipPeer:
    """`with BaresipPeer(workdir, audio=wav) as peer: ... dial peer.uri ...`"""

    def __init__(
        self,
        workdir: Path,
        user: str = "callee",
        audio: Path | None = None,
        answer: Answer = "auto",
        codecs: tuple[str, ...] = ("PCMU", "PCMA"),
        rtp_base: int = 30000,
        tail_s: float = 15.0,
    ) -> None:
        if shutil.which("baresip") is None:
            raise VoicebotError("baresip is not installed (apt-get install baresip-core)")
        self.dir = workdir / user
        self.record_dir = self.dir / "heard"
        self.user, self.audio, self.answer, self.codecs = user, audio, answer, codecs
        self.tail_s = tail_s  # baresip hangs up when its file ends: pad it with silence
        self.sip_port, self.ctrl_port = free_port(), free_port(socket.SOCK_STREAM)
        self.rtp_base = rtp_base
        self.log_path = self.dir / "baresip.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._events: list[dict[str, object]] = []
        self._ctrl: socket.socket | None = None

    @property
    def uri(self) -> str:
        return f"sip:{self.user}@127.0.0.1:{self.sip_port}"

    def __enter__(self) -> BaresipPeer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout_s: float = 10.0) -> None:
        self.record_dir.mkdir(parents=True, exist_ok=True)
        source = f"aufile,{self._padded()}" if self.audio else "aubridge,nil"
        (self.dir / "config").write_text(
            CONFIG.format(
                sip_port=self.sip_port,
                ctrl_port=self.ctrl_port,
                source=source,
                rtp_low=self.rtp_base,
                rtp_high=self.rtp_base + 98,
                rtp_timeout=0,
                record_dir=self.record_dir,
            )
        )
        mode = "auto" if self.answer == "auto" else "manual"
        codecs = ",".join(self.codecs)
        (self.dir / "accounts").write_text(
            f"<sip:{self.user}@127.0.0.1:{self.sip_port}>;regint=0;answermode={mode};"
            f"audio_codecs={codecs}\n"
        )
        self._log = self.log_path.open("wb")
        self._proc = subprocess.Popen(
            ["baresip", "-f", str(self.dir)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout_s
        while b"baresip is ready" not in self.log_path.read_bytes():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise VoicebotError(f"baresip did not start: see {self.log_path}")
            time.sleep(0.05)
        self._ctrl = socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=5)
        threading.Thread(target=self._read_events, daemon=True).start()

    def _padded(self) -> Path:
        assert self.audio is not None
        pcm, _ = read_wav(self.audio, rate=8000)
        out = self.dir / "plays.wav"
        write_wav(out, np.concatenate([pcm, np.zeros(int(self.tail_s * 8000), np.int16)]), 8000)
        return out

    def command(self, command: str, params: str = "") -> None:
        assert self._ctrl is not None
        body = json.dumps({"command": command, "params": params, "token": command}).encode()
        self._ctrl.sendall(str(len(body)).encode() + b":" + body + b",")

    def _read_events(self) -> None:
        buffer = b""
        sock = self._ctrl
        assert sock is not None
        sock.settimeout(None)
        with contextlib.suppress(OSError):
            while chunk := sock.recv(4096):
                buffer += chunk
                while b":" in buffer:
                    size, _, rest = buffer.partition(b":")
                    if len(rest) < int(size) + 1:
                        break
                    message, buffer = json.loads(rest[: int(size)]), rest[int(size) + 1 :]
                    self._events.append(message)
                    if message.get("type") == "CALL_INCOMING" and self.answer == "busy":
                        self.command("hangup")

    def events(self, kind: str) -> list[dict[str, object]]:
        return [e for e in self._events if e.get("type") == kind]

    def log(self) -> str:
        return self.log_path.read_bytes().decode("utf-8", "replace")

    def recordings(self) -> list[Path]:
        """What the peer heard, one WAV per call, oldest first."""
        return sorted(self.record_dir.glob("dump-*-dec.wav"))

    def vanish(self) -> None:
        """Disappear mid-call: no BYE, RTP stops (SIGKILL)."""
        if self._proc is not None:
            self._proc.send_signal(signal.SIGKILL)
            self._proc.wait(5)

    def stop(self) -> None:
        if self._ctrl is not None:
            with contextlib.suppress(OSError):
                self._ctrl.close()
            self._ctrl = None
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
        self._proc = None
        if hasattr(self, "_log"):
            self._log.close()
