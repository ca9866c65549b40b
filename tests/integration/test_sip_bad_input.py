"""The SIP transport against peers that misbehave or demand credentials: malformed SIP and SDP,
RTP garbage, a decline from a real PJSIP peer, digest auth on REGISTER and INVITE.

The misbehaving peer is a small raw-UDP responder written here: no real stack sends garbage
on purpose. The decline comes from a real PJSIP user agent in its own process."""

from __future__ import annotations

import asyncio
import hashlib
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest

from tests.conftest import ROOT
from voicebot.app.outbound import SipCaller
from voicebot.metrics.report import CallReport
from voicebot.session.call import CallOptions
from voicebot.sim.baresip import free_port
from voicebot.sim.trial import Trial
from voicebot.telephony.sip.config import SipConfig, TrunkConfig
from voicebot.telephony.sip.line import SipLine
from voicebot.telephony.sip.stack import SipError, SipStack

pytest.importorskip("pjsua2")
pytestmark = pytest.mark.integration
Reply = Callable[["FakePeer", str, dict[str, str], str, tuple[str, int]], None]


@pytest.fixture(scope="module")
def survey(store) -> Trial:  # type: ignore[no-untyped-def]
    trial = Trial(
        ROOT / "prompts" / "survey_en.yaml", store, CallOptions(max_call_s=30, no_input_s=1.0)
    )
    trial.prerender()
    return trial


class FakePeer:
    """A UDP SIP endpoint that answers requests with `reply(peer, method, headers, body, addr)`."""

    def __init__(self, reply: Reply) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.reply = reply
        self.seen: list[str] = []
        self.rtp_target: tuple[str, int] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> FakePeer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            text = data.decode("utf-8", "replace")
            head, _, body = text.partition("\r\n\r\n")
            lines = head.split("\r\n")
            method = lines[0].split(" ", 1)[0]
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers.setdefault(name.strip().lower(), value.strip())
            self.seen.append(method)
            if method == "INVITE" and (m := re.search(r"m=audio (\d+)", body)):
                self.rtp_target = ("127.0.0.1", int(m.group(1)))
            self.reply(self, method, headers, body, addr)

    def respond(
        self,
        addr: tuple[str, int],
        status: str,
        headers: dict[str, str],
        extra: str = "",
        body: str = "",
    ) -> None:
        to = headers["to"] if ";tag=" in headers["to"] else headers["to"] + ";tag=fake1"
        message = (
            f"SIP/2.0 {status}\r\nVia: {headers['via']}\r\nFrom: {headers['from']}\r\n"
            f"To: {to}\r\nCall-ID: {headers['call-id']}\r\nCSeq: {headers['cseq']}\r\n"
            f"Contact: <sip:fake@127.0.0.1:{self.port}>\r\n{extra}"
            f"Content-Length: {len(body.encode())}\r\n\r\n{body}"
        )
        self.sock.sendto(message.encode(), addr)


def sdp(port: int, media: str = "") -> str:
    media = media or f"m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    return f"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n{media}"


def place(trial: Trial, port: int, **trunk: object) -> CallReport:
    config = TrunkConfig(
        uri=f"sip:127.0.0.1:{port}",
        rtp_port=free_port(),
        trunk_timeout_s=2,
        ring_timeout_s=5,
        rtp_timeout_s=3,
        **trunk,
    )  # type: ignore[arg-type]

    async def go() -> CallReport:
        async with SipStack(config) as stack:
            return await SipCaller(trial, stack, SipConfig(trunk=config)).call(
                f"sip:bob@127.0.0.1:{port}", dict(trial.script.example_contact)
            )

    return asyncio.run(go())


def test_garbage_instead_of_a_response_ends_as_a_failed_call(survey: Trial) -> None:
    def reply(peer: FakePeer, method: str, headers: dict[str, str], body: str, addr) -> None:  # type: ignore[no-untyped-def]
        peer.sock.sendto(b"SIP/2.0 2xx Whatever\r\nVia garbage\r\n\r\n\x00\xff", addr)
        peer.sock.sendto(bytes(range(256)) * 4, addr)

    with FakePeer(reply) as peer:
        started = time.monotonic()
        report = place(survey, peer.port)
    assert report.outcome == "failed" and time.monotonic() - started < 10
    assert report.signalling and "no response" in report.signalling["final_reason"]


def test_a_malformed_sdp_answer_ends_the_call_with_a_clear_outcome(survey: Trial) -> None:
    def reply(peer: FakePeer, method: str, headers: dict[str, str], body: str, addr) -> None:  # type: ignore[no-untyped-def]
        if method == "INVITE":
            broken = "v=0\r\nm=audio notaport RTP/AVP zero\r\nc=IN IP4\r\n"
            peer.respond(addr, "200 OK", headers, "Content-Type: application/sdp\r\n", broken)
        elif method in ("BYE", "CANCEL"):
            peer.respond(addr, "200 OK", headers)

    with FakePeer(reply) as peer:
        report = place(survey, peer.port)
    assert report.outcome in ("failed", "incompatible"), report.signalling
    assert report.error is None and report.turns == []


def test_rtp_garbage_does_not_break_the_call(survey: Trial) -> None:
    def reply(peer: FakePeer, method: str, headers: dict[str, str], body: str, addr) -> None:  # type: ignore[no-untyped-def]
        if method == "INVITE":
            peer.respond(
                addr, "200 OK", headers, "Content-Type: application/sdp\r\n", sdp(peer.port)
            )
            threading.Thread(target=spray, args=(peer,), daemon=True).start()
        elif method == "BYE":
            peer.respond(addr, "200 OK", headers)

    def spray(peer: FakePeer) -> None:
        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(300):
            if peer.rtp_target:  # short junk, bad versions, huge payloads, a valid header
                valid_header = bytes([0x80, 0, 0, i % 256]) + b"\x00" * 8 + b"\x7f" * 160
                junk = [b"\x00", b"\xff" * 12, valid_header, b"\x40" * 1400][i % 4]
                rtp.sendto(junk, peer.rtp_target)
            time.sleep(0.01)
        rtp.close()

    with FakePeer(reply) as peer:
        report = place(survey, peer.port)
    assert report.error is None
    assert report.outcome in ("no_input", "rtp_timeout"), report.timeline
    assert "BYE" in peer.seen  # the bot ended the call properly


class PjsuaPeer:
    """voicebot.sim.pjsua_peer in its own process (PJSIP allows one stack per process)."""

    def __init__(self, *args: str) -> None:
        self.port = free_port()
        self.args = [
            sys.executable,
            "-m",
            "voicebot.sim.pjsua_peer",
            "--port",
            str(self.port),
            *args,
        ]

    def __enter__(self) -> PjsuaPeer:
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        while (line := self.proc.stdout.readline()) and line.strip() != "ready":
            pass  # pjlib prints a line or two before its log settings apply
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def test_a_decline_from_a_real_pjsip_peer(survey: Trial) -> None:
    with PjsuaPeer("--status", "603") as peer:
        report = place(survey, peer.port)
    assert (report.outcome, report.signalling["final_code"]) == ("declined", 603)  # type: ignore[index]


def test_keys_pressed_by_the_callee_arrive_by_rfc4733_and_sip_info() -> None:
    with PjsuaPeer("--status", "200", "--keys", "12", "--info-keys", "#") as peer:
        trunk = TrunkConfig(uri=f"sip:127.0.0.1:{peer.port}", rtp_port=free_port())

        async def go() -> list[str]:
            async with SipStack(trunk) as stack:
                line = SipLine(stack)
                await line.dial(f"sip:peer@127.0.0.1:{peer.port}")
                assert await line.wait_answer(5, 3)
                keys: list[str] = []
                for _ in range(100):
                    keys += line.dtmf()
                    if len(keys) >= 3:
                        break
                    await asyncio.sleep(0.05)
                await line.close()
                return keys

        keys = asyncio.run(go())
    # INFO is one message; RFC 4733 events end after their duration: "#" may come first
    assert sorted(keys) == ["#", "1", "2"] and [k for k in keys if k != "#"] == ["1", "2"]


def digest_peer(password: str, final: str) -> Reply:
    """Challenges REGISTER (401) and INVITE (407); checks the digest; then `final`."""
    nonce = "c0ffee"

    def reply(peer: FakePeer, method: str, headers: dict[str, str], body: str, addr) -> None:  # type: ignore[no-untyped-def]
        credentials = headers.get("authorization") or headers.get("proxy-authorization")
        if method in ("ACK", "BYE"):
            return
        if credentials is None:
            register = method == "REGISTER"
            kind = "401 Unauthorized" if register else "407 Proxy Authentication Required"
            field = "WWW-Authenticate" if register else "Proxy-Authenticate"
            extra = f'{field}: Digest realm="voicebot-test", nonce="{nonce}", algorithm=MD5\r\n'
            peer.respond(addr, kind, headers, extra)
            return
        parts = dict(re.findall(r'(\w+)="?([^",]+)"?', credentials))
        ha1 = md5(f"{parts['username']}:voicebot-test:{password}")
        ha2 = md5(f"{method}:{parts['uri']}")
        good = parts.get("response") == md5(f"{ha1}:{nonce}:{ha2}")
        extra = "Expires: 300\r\n" if method == "REGISTER" else ""
        status = (final if method == "INVITE" else "200 OK") if good else "403 Forbidden"
        peer.respond(addr, status, headers, extra)

    return reply


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def test_digest_auth_registers_and_authorises_the_invite(
    survey: Trial, caplog: pytest.LogCaptureFixture
) -> None:
    with FakePeer(digest_peer("s3cret", "486 Busy Here")) as peer:
        report = place(
            survey,
            peer.port,
            registrar=f"sip:127.0.0.1:{peer.port}",
            username="bot",
            password="s3cret",
        )
    assert peer.seen[:2] == ["REGISTER", "REGISTER"]  # challenged, then authorised
    assert peer.seen.count("INVITE") == 2
    assert report.outcome == "busy"  # the second, authorised INVITE got the peer's answer
    assert "s3cret" not in caplog.text


def test_wrong_credentials_give_a_clear_registration_error(survey: Trial) -> None:
    expected = r"registration .* failed: 403.*check trunk.username"
    with (
        FakePeer(digest_peer("s3cret", "486 Busy Here")) as peer,
        pytest.raises(SipError, match=expected) as e,
    ):
        place(
            survey,
            peer.port,
            registrar=f"sip:127.0.0.1:{peer.port}",
            username="bot",
            password="wrong",
        )
    assert "wrong" not in str(e.value)


def test_a_registrar_that_never_answers_times_out_clearly(survey: Trial) -> None:
    silent = free_port()
    with pytest.raises(SipError, match="no answer in 1 s"):
        place(survey, silent, registrar=f"sip:127.0.0.1:{silent}", register_timeout_s=1)
