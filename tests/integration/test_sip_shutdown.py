"""A PJSIP call object still referenced from Python when the SIP stack shuts down (a bridged
leg, a report holding its line) must not abort the process when it is finally released: its
C++ destructor would call into the destroyed library (pjsua_call_set_user_data assertion)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT

pytest.importorskip("pjsua2")
pytestmark = pytest.mark.integration

PROGRAM = textwrap.dedent(
    """
    import asyncio, socket
    from voicebot.sim.baresip import free_port
    from voicebot.telephony.sip.config import TrunkConfig
    from voicebot.telephony.sip.line import SipLine
    from voicebot.telephony.sip.stack import SipStack

    kept = []

    async def main():
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # a peer that never answers
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        trunk = TrunkConfig(uri=f"sip:127.0.0.1:{port}", rtp_port=free_port(),
                            trunk_timeout_s=1, ring_timeout_s=2)
        async with SipStack(trunk) as stack:
            line = SipLine(stack)
            await line.dial(f"sip:bob@127.0.0.1:{port}")
            assert line._call is not None
            kept.append(line._call)
            await asyncio.sleep(0.2)

    asyncio.run(main())
    kept.clear()  # the last reference goes after the library was destroyed
    print("released after the stack stopped", flush=True)
    """
)


def test_a_call_object_released_after_the_stack_stopped_does_not_abort_the_process() -> None:
    run = subprocess.run(
        [sys.executable, "-c", PROGRAM], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "released after the stack stopped" in run.stdout
