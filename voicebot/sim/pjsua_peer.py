"""A PJSIP user agent that rejects every call with a configured SIP status (603 Decline, 480,
404 ...), run as its own process: `python -m voicebot.sim.pjsua_peer --port 5090 --status 603`.

baresip (the main test peer) can only reject with 486; this covers the other final answers a
carrier or phone gives, from a real SIP stack. It prints `ready` once listening."""

from __future__ import annotations

import argparse
import sys
import time

import pjsua2 as pj


class _Account(pj.Account):
    def __init__(self, status: int, ring_s: float) -> None:
        super().__init__()
        self.status, self.ring_s = status, ring_s
        self.calls: list[tuple[float, pj.Call]] = []

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
        call = pj.Call(self, prm.callId)
        ringing = pj.CallOpParam()
        ringing.statusCode = 180
        call.answer(ringing)
        self.calls.append((time.monotonic() + self.ring_s, call))

    def due(self) -> None:
        now = time.monotonic()
        for at, call in [c for c in self.calls if c[0] <= now]:
            reject = pj.CallOpParam()
            reject.statusCode = self.status
            call.hangup(reject)
            self.calls.remove((at, call))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--status", type=int, default=603)
    parser.add_argument("--ring", type=float, default=0.3, help="seconds of ringing first")
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
    account = _Account(args.status, args.ring)
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
        del account
        ep.libDestroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
