"""SIP calls on PJSIP (pjsua2): the stack thread, lines, media ports, hand-off to agents."""
