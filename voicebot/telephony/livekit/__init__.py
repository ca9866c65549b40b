"""LiveKit call control: dial out on a LiveKit SIP outbound trunk, transfer, hang up (`calls`),
and the settings (`config`). No media and no script: the agent session in the room is
`voicebot.livekit`.

`calls` needs the optional extra (`pip install 'voicebot[livekit]'`) and says so when it is
missing; `config` needs nothing extra."""
