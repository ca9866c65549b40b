"""A PJSIP user agent run as its own process, for what baresip 1.0 cannot do as a test peer:
reject with any final status (603 Decline, 480, 404 ...), or answer and press phone keys.

    python -m voicebot.sim.pjsua_peer --port 5090 --status 603
    python -m voicebot.sim.pjsua_peer --port 5090 --status 200 --keys 12 --info-keys "#"

It prints `ready` once listening. With status 200 it answers, sends `--keys` as RFC 4733 events
and `--info-keys` as SIP INFO a second after answering, and keeps the call up."""

from __future__ import annotations

import argparse
import sys
import time

import pjsua2 as pj


class _Account(pj.Account):
    def __init__(self, status: int, ring_s: float, keys: dict[int, str]) -> None:
        super().__init__()
        self.status, self.ring_s, self.keys = status, ring_s, keys
        self.calls: list[tuple[float, pj.Call]] = []
        self.answered: list[tuple[float, pj.Call]] = []
        self.calls_done: list[pj.Call] = []

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
        call = pj.Call(self, prm.callId)
        ringing = pj.CallOpParam()
        ringing.statusCode = 180
        call.answer(ringing)
        self.calls.append((time.monotonic() + self.ring_s, call))

    def due(self) -> None:
        now = time.monotonic()
        for at, call in [c for c in self.calls if c[0] <= now]:
            final = pj.CallOpParam()
            final.statusCode = self.status
            if self.status == 200:
                call.answer(final)
                self.answered.append((now + 1.0, call))
            else:
                call.hangup(final)
            self.calls.remove((at, call))
        for at, call in [c for c in self.answered if c[0] <= now]:
            for method, digits in self.keys.items():
                if digits:
                    press = pj.CallSendDtmfParam()
                    press.digits, press.method = digits, method
                    call.sendDtmf(press)
            self.answered.remove((at, call))
            self.calls_done.append(call)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--status", type=int, default=603)
    parser.add_argument("--ring", type=float, default=0.3, help="seconds of ringing first")
    parser.add_argument("--keys", default="", help="press these (RFC 4733) once answered")
    parser.add_argument("--info-keys", default="", help="press these by SIP INFO once answered")
    args = parser.parse_args(argv)
    ep = pj.Endpoint()
    ep.libCreate()
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0
    cfg.logConfig.level = cfg.logConfig.consoleLevel = 0
    ep.libInit(cfg)
    transport = pj.TransportConfig()
    transport.boundAddress, transport.port = "127.0.0.1", args.port
    ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, transport)
    ep.libStart()
    ep.audDevManager().setNullDev()
    account_config = pj.AccountConfig()
    account_config.idUri = f"sip:peer@127.0.0.1:{args.port}"
    keys = {pj.PJSUA_DTMF_METHOD_RFC2833: args.keys, pj.PJSUA_DTMF_METHOD_SIP_INFO: args.info_keys}
    account = _Account(args.status, args.ring, keys)
    account.create(account_config)
    print("ready", flush=True)
    try:
        while True:
            ep.libHandleEvents(10)
            account.due()
    except KeyboardInterrupt:
        pass
    finally:
        account.calls.clear()
        account.calls_done.clear()
        del account
        ep.libDestroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
