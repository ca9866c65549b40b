"""`voicebot script check`: structural problems a call centre must not put on the phone."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from voicebot.policy.exemplars import common_exemplars
from voicebot.policy.schema import (
    CONSENT_FIELD,
    Handler,
    Line,
    Script,
    ScriptError,
    line_of,
    load_script,
    text_of,
)

REQUIRED_GLOBALS = (
    "who_are_you",
    "how_got_number",
    "are_you_robot",
    "repeat",
    "busy_callback",
    "not_interested",
    "wrong_person",
    "stop_calling",
    "want_human",
    "complaint",
    "ask_question",
)
SPECIAL_EVENTS = {"filled", "affirm", "deny"}


@dataclass(frozen=True, slots=True)
class Finding:
    line: int
    where: str
    message: str


def common_intents(language: str) -> set[str]:
    return set(common_exemplars(language)) | {"abuse"}


def lint(script: Script, source: str = "") -> list[Finding]:
    tree = yaml.compose(source) if source else None
    out: list[Finding] = []

    def add(loc: list[str], message: str) -> None:
        out.append(Finding(line_of(tree, loc), ".".join(loc), message))

    nodes = script.nodes
    intents = set(script.intents)
    if script.use_common_intents:
        for lang in script.languages:
            intents |= common_intents(lang)
    if script.start not in nodes:
        add(["start"], f"start node {script.start!r} is not defined")
        return out
    for nid, node in nodes.items():
        targets = [("goto", k, t) for k, t in node.goto.items()]
        targets += [("next", "", node.next)] if node.next else []
        targets += [("on_fail", "", node.on_fail)] if node.on_fail else []
        for kind, key, target in targets:
            if target not in nodes:
                add(
                    ["nodes", nid, kind, key] if key else ["nodes", nid, kind],
                    f"goes to undefined node {target!r}",
                )
        for key in node.goto:
            if key not in intents and key not in SPECIAL_EVENTS:
                add(["nodes", nid, "goto", key], f"intent {key!r} is not defined")
        for digit, intent in node.dtmf.items():
            if not re.fullmatch(r"[0-9*#]", digit):
                add(["nodes", nid, "dtmf", digit], f"{digit!r} is not a phone key (0-9, *, #)")
            elif intent not in node.goto and intent not in script.globals:
                add(
                    ["nodes", nid, "dtmf", digit],
                    f"key {digit} means {intent!r}, "
                    "which neither this node's goto nor a global handler takes",
                )
        ask = node.ask
        if ask and ask.slot == "when" and ask.record == "callback.at" and "deny" not in node.goto:
            books = [t for t in (node.goto.get("filled"), node.on_fail) if t in nodes]
            if any(nodes[t].callback for t in books):
                add(
                    ["nodes", nid, "goto"],
                    "a 'no' to this question books a callback the caller declined: "
                    "add a `deny` route to a closing that calls no one back",
                )
        expects = bool(node.goto or node.ask)
        if not node.end and not expects and not node.next and not node.transfer:
            add(["nodes", nid], "a statement with no `next` and nothing expected: call stalls")
        if expects and not node.end and not node.on_fail and not _has_completed(script):
            add(["nodes", nid, "on_fail"], "no on_fail and no completed closing to fall to")
    for name, handler in script.globals.items():
        if name not in intents:
            add(["globals", name], f"global handler for undefined intent {name!r}")
        if handler.then not in ("return", "end") and handler.then not in nodes:
            add(["globals", name, "then"], f"goes to undefined node {handler.then!r}")
    if script.voicemail.action == "leave" and script.voicemail.message is None:
        add(["voicemail"], "action is leave but there is no message to leave")
    for name in REQUIRED_GLOBALS:
        if name not in script.globals:
            add(["globals"], f"no global handler for {name!r}")
    reachable = _reachable(script)
    for nid in nodes:
        if nid not in reachable:
            add(["nodes", nid], "unreachable from the start node")
    closing = _reaches_closing(script)
    for nid in nodes:
        if nid not in closing:
            add(["nodes", nid], "no path from here reaches a closing (the loop is not closed)")
    _check_loops(script, closing, add)
    for var in script.variables:
        if script.example_contact and var not in script.example_contact:
            add(["example_contact"], f"example contact has no {var!r}")
    for loc, line in script_lines(script):
        _check_line(script, loc, line, add)
    _check_compliance(script, add)
    _check_promises(script, add)
    _check_sms(script, add)
    return out


# lines that promise a text message (any of them, in any case)
SMS_PROMISE = {
    "en": re.compile(
        r"\b(sms|text message)\b|\btext you\b|\bsend (you )?(a |the )?text\b"
        r"|\b(by|via) text\b"
    ),
    "zh": re.compile(r"短信|短讯"),
}


def promises_sms(text: str, language: str) -> bool:
    return bool(SMS_PROMISE[language].search(text.lower()))


def _check_sms(script: Script, add: Callable[[list[str], str], None]) -> None:
    """No line promises a text message that nothing sends: a script that promises one has a
    node with an `sms:` step; each node that promises one has `without_sms` (what the call does
    where no SMS webhook is configured), whose line promises none; no other line promises one."""
    senders = [nid for nid, node in script.nodes.items() if node.sms is not None]
    for loc, line in script_lines(script):
        langs = [lang for lang in script.languages if promises_sms(text_of(line, lang), lang)]
        if not langs:
            continue
        if not senders:
            add(
                loc,
                f"the line ({langs[0]}) promises a text message, but no node of the script "
                "sends one (add `sms:` to the node that sends it)",
            )
            continue
        if loc[0] != "nodes":
            add(
                loc,
                f"the line ({langs[0]}) promises a text message: only a node may, with "
                "`without_sms` for calls where no SMS webhook is configured",
            )
            continue
        node = script.nodes[loc[1]]
        if node.without_sms is None:
            add(
                loc,
                f"the line ({langs[0]}) promises a text message: give the node `without_sms` "
                "(where the call goes when no SMS webhook is configured)",
            )
    for nid, node in script.nodes.items():
        if node.sms is not None:
            for lang in script.languages:
                for var in re.findall(r"\{(\w+)\}", text_of(node.sms, lang)):
                    if var not in script.variables:
                        add(["nodes", nid, "sms"], f"variable {{{var}}} is not declared")
        target = node.without_sms
        if target is None:
            continue
        if target not in script.nodes:
            add(["nodes", nid, "without_sms"], f"goes to undefined node {target!r}")
            continue
        say = script.nodes[target].say
        if script.nodes[target].without_sms is None and any(
            promises_sms(text_of(say, lang), lang) for lang in script.languages
        ):
            add(
                ["nodes", nid, "without_sms"],
                f"{target!r} promises a text message too: without an SMS webhook it would be said",
            )


# lines that promise the number will not be called again (any of them, in any case)
NO_MORE_CALLS = {
    "en": re.compile(
        r"\b(won't|will not|never|not) (call|contact|ring|phone)( you| this number)? again\b"
        r"|\bno (more|further) (calls|contact)\b"
    ),
    "zh": re.compile(r"(不会再|不再)[^。，,！？]{0,8}?(打|联系|致电|来电|打扰|推荐)"),
}


def promises_no_more_calls(text: str, language: str) -> bool:
    return bool(NO_MORE_CALLS[language].search(text.lower()))


def _check_promises(script: Script, add: Callable[[list[str], str], None]) -> None:
    """Every promise the bot speaks is backed: "we won't call you again" only where the step
    marks do-not-call or records a no to future contact (`consent.future_contact: false`)."""

    def backed(dnc: bool, record: dict[str, object]) -> bool:
        return dnc or record.get(CONSENT_FIELD) is False

    steps: list[tuple[list[str], Line | None, bool]] = [
        (["nodes", nid, "say"], node.say, backed(node.dnc, dict(node.record)))
        for nid, node in script.nodes.items()
    ]
    for name, handler in script.globals.items():
        loc: list[str] = ["globals", name]
        step: Handler | None = handler
        while step is not None:
            steps.append(([*loc, "say"], step.say, backed(step.dnc, dict(step.record))))
            loc, step = [*loc, "again"], step.again
    for loc, line, ok in steps:
        if line is None or ok:
            continue
        for lang in script.languages:
            if promises_no_more_calls(text_of(line, lang), lang):
                add(
                    loc,
                    f"the line ({lang}) promises no more calls, but this step neither marks "
                    f"do-not-call (dnc: true) nor records {CONSENT_FIELD}: false",
                )
                break


# the words that tell a callee the call is automated, or recorded (any of them, in any case)
DISCLOSURE = {
    "en": ("automated", "virtual assistant", "ai assistant", "recorded message", "robot"),
    "zh": ("智能", "自动", "机器人", "语音助手", "人工智能"),
}
RECORDING = {
    "en": ("call is recorded", "call may be recorded", "calls are recorded", "being recorded"),
    "zh": ("录音",),
}


def says_recorded(script: Script) -> bool:
    """Whether any line of the script tells the callee the call is recorded (then it must be,
    and the opening must say so)."""
    return any(
        _mentions(text_of(line, lang), RECORDING[lang])
        for _, line in script_lines(script)
        for lang in script.languages
    )


def opening(script: Script) -> list[tuple[str, Line]]:
    """The lines the callee hears before the first answer: the start node and its `next` chain."""
    out: list[tuple[str, Line]] = []
    nid = script.start
    while nid in script.nodes and nid not in (n for n, _ in out):
        out.append((nid, script.nodes[nid].say))
        nid = script.nodes[nid].next or ""
    return out


def _mentions(text: str, words: tuple[str, ...]) -> bool:
    low = text.lower()
    return any(w in low for w in words)


def _check_compliance(script: Script, add: Callable[[list[str], str], None]) -> None:
    rules = script.compliance
    first = opening(script)
    if not first:
        return
    for lang in script.languages:
        said = [text_of(line, lang) for _, line in first]
        if rules.disclosure and not any(_mentions(t, DISCLOSURE[lang]) for t in said):
            add(
                ["nodes", first[0][0], "say"],
                f"the opening ({lang}) does not say the call is automated (compliance.disclosure)",
            )
        if (
            rules.recording_notice
            and says_recorded(script)
            and not any(_mentions(t, RECORDING[lang]) for t in said)
        ):
            add(
                ["nodes", first[0][0], "say"],
                f"calls are recorded but the opening ({lang}) does not say so "
                "(compliance.recording_notice)",
            )
    if rules.opt_out and not _global_opt_out(script):
        for nid, node in script.nodes.items():
            listens = bool(node.goto or node.ask) and not node.end
            opt_out = node.goto.get("stop_calling")
            if listens and not (opt_out in script.nodes and script.nodes[opt_out].dnc):
                add(
                    ["nodes", nid],
                    "no opt-out from here: no global stop_calling handler that marks do-not-call "
                    "and no goto stop_calling to a dnc node (compliance.opt_out)",
                )
    allowed = rules.voicemail_fields
    spoken_blind = [(["voicemail", "message"], script.voicemail.message)]
    spoken_blind.append((["lines", "screening"], script.lines.screening))
    for loc, line in spoken_blind:
        if line is None or allowed is None:
            continue
        variables = {
            v for lang in script.languages for v in re.findall(r"\{(\w+)\}", text_of(line, lang))
        }
        for var in sorted(variables):
            if var not in allowed:
                add(
                    loc,
                    f"{{{var}}} is personal data said to whoever answers "
                    f"(compliance.voicemail_fields allows {', '.join(allowed) or 'none'})",
                )


def _global_opt_out(script: Script) -> bool:
    handler = script.globals.get("stop_calling")
    if handler is None:
        return False
    return handler.dnc or (handler.then in script.nodes and script.nodes[handler.then].dnc)


def _has_completed(script: Script) -> bool:
    return any(n.end == "completed" for n in script.nodes.values())


def _edges(script: Script, nid: str) -> set[str]:
    node = script.nodes[nid]
    out = set(node.goto.values()) | {t for t in (node.next, node.on_fail, node.without_sms) if t}
    if (node.goto or node.ask) and not node.on_fail and _has_completed(script):
        out.add(next(n for n, x in script.nodes.items() if x.end == "completed"))
    out |= {h.then for h in script.globals.values() if h.then in script.nodes}
    return {t for t in out if t in script.nodes}


def _reachable(script: Script) -> set[str]:
    seen, todo = set(), [script.start]
    while todo:
        nid = todo.pop()
        if nid not in seen:
            seen.add(nid)
            todo += _edges(script, nid)
    return seen


def _reaches_closing(script: Script, with_globals: bool = True) -> set[str]:
    good = {n for n, node in script.nodes.items() if node.end or node.transfer}
    edges = _edges if with_globals else _own_edges
    changed = True
    while changed:
        changed = False
        for nid in script.nodes:
            if nid not in good and edges(script, nid) & good:
                good.add(nid)
                changed = True
    return good


def _check_loops(script: Script, closing: set[str], add: Callable[[list[str], str], None]) -> None:
    """Loops the policy can enter at run time and never leave by itself.

    Rejected: a `next` loop (the policy follows `next` without waiting for the caller: it would
    never stop); a no-match loop (`on_fail` leads, through `next` chains, back to where it
    started: a caller who is never understood is asked round it until `max_turns` ends the call
    as no-input, minutes of the same questions); a loop of the script's own flow that no answer
    leaves (every goto, next and on_fail from it stays inside, so only a global handler such as
    stop_calling ends the call).
    Accepted: loops a caller's answer leaves (a deny that asks again, "repeat that", a global
    handler whose `then` goes back, `then: return`: each turn is the caller's choice and some
    answer goes on), and the counters the policy keeps itself (reprompts, low confidence, no
    input, unheard turns, abuse warnings, and `max_turns` for every call)."""
    nodes = script.nodes
    for cycle in _cycles(script, lambda n: [t for t in [nodes[n].next] if t]):
        add(
            ["nodes", cycle[0], "next"],
            f"`next` loop {_path(cycle)}: the policy follows it without waiting for the caller "
            "and never stops",
        )
    for cycle in _cycles(script, lambda n: _fail_edge(script, n)):
        add(
            ["nodes", cycle[0], "on_fail"] if nodes[cycle[0]].on_fail else ["nodes", cycle[0]],
            f"no-match loop {_path(cycle)}: a caller who is not understood is asked round it "
            "until max_turns ends the call; send one on_fail to a closing or a hand-off",
        )
    own = _reaches_closing(script, with_globals=False)
    reported: set[str] = set()
    for nid in nodes:
        if nid in closing and nid not in own and nid not in reported:
            trapped = _trapped(script, nid, own)
            reported |= trapped
            names = ", ".join(sorted(trapped, key=list(nodes).index))
            add(
                ["nodes", nid],
                f"no answer leads out of the loop through {names}: every goto, next and on_fail "
                "stays inside, only a global handler ends the call",
            )


def _own_edges(script: Script, nid: str) -> set[str]:
    """Where the script's own flow goes from a node (no global handlers)."""
    node = script.nodes[nid]
    out = set(node.goto.values()) | {t for t in (node.next, node.on_fail) if t}
    if (node.goto or node.ask) and not node.on_fail and _has_completed(script):
        out.add(next(n for n, x in script.nodes.items() if x.end == "completed"))
    return {t for t in out if t in script.nodes}


def _settle(script: Script, nid: str) -> str | None:
    """The node where entering `nid` waits for the caller (following `next`), or None when it
    ends the call, hands off, or loops."""
    seen: set[str] = set()
    while nid in script.nodes and nid not in seen:
        seen.add(nid)
        node = script.nodes[nid]
        if node.end or node.transfer:
            return None
        if node.next is None:
            return nid
        nid = node.next
    return None


def _fail_edge(script: Script, nid: str) -> list[str]:
    """Where a no-match leaves a listening node once its reprompts are spent."""
    node = script.nodes[nid]
    if node.end or node.transfer or not (node.goto or node.ask) or node.next:
        return []
    target = node.on_fail or next((n for n, x in script.nodes.items() if x.end == "completed"), "")
    settled = _settle(script, target)
    return [settled] if settled else []


def _cycles(script: Script, edges: Callable[[str], list[str]]) -> list[list[str]]:
    """The cycles of a graph where each node has at most one edge, each once, from its first
    node in script order."""
    out: list[list[str]] = []
    done: set[str] = set()
    for start in script.nodes:
        path: list[str] = []
        nid: str | None = start
        while nid is not None and nid in script.nodes and nid not in done and nid not in path:
            path.append(nid)
            nxt = edges(nid)
            nid = nxt[0] if nxt else None
        if nid is not None and nid in path:
            out.append(path[path.index(nid) :])
        done |= set(path)
    return out


def _trapped(script: Script, nid: str, own: set[str]) -> set[str]:
    """The nodes the script's own flow can reach from `nid` (none of which reaches a closing)."""
    seen, todo = set(), [nid]
    while todo:
        n = todo.pop()
        if n not in seen and n not in own:
            seen.add(n)
            todo += _own_edges(script, n)
    return seen


def _path(cycle: list[str]) -> str:
    return " -> ".join([*cycle, cycle[0]])


def script_lines(script: Script) -> list[tuple[list[str], Line]]:
    out: list[tuple[list[str], Line]] = []
    for nid, node in script.nodes.items():
        out.append((["nodes", nid, "say"], node.say))
        out += [(["nodes", nid, "reprompt", str(i)], r) for i, r in enumerate(node.reprompt)]
    for name, handler in script.globals.items():
        loc: list[str] = ["globals", name]
        step: Handler | None = handler
        while step is not None:
            if step.say is not None:
                out.append(([*loc, "say"], step.say))
            loc, step = [*loc, "again"], step.again
    out += [
        (["lines", name], line)
        for name, line in script.lines.model_dump().items()
        if line is not None
    ]
    if script.voicemail.message is not None:
        out.append((["voicemail", "message"], script.voicemail.message))
    return out


def _check_line(
    script: Script, loc: list[str], line: Line, add: Callable[[list[str], str], None]
) -> None:
    texts: dict[str, str] = {script.languages[0]: line} if isinstance(line, str) else dict(line)
    if not isinstance(line, str) or len(script.languages) > 1:
        for missing in set(script.languages) - set(texts):
            add(loc, f"missing {missing} translation")
    for lang, text in texts.items():
        for var in re.findall(r"\{(\w+)\}", text):
            if var not in script.variables:
                add(loc, f"variable {{{var}}} is not declared in `variables`")
        limit = script.settings.max_line_chars // (3 if lang == "zh" else 1)
        for sentence in re.split(r"(?<=[.!?。！？])\s*", text):
            if len(sentence) > limit:
                add(
                    loc,
                    f"a sentence of {len(sentence)} characters is too long to say in one "
                    f"breath (limit {limit})",
                )


def check_file(path: Path) -> list[str]:
    """Problems as 'file:line: where: message' strings (schema errors included)."""
    try:
        script = load_script(path)
    except ScriptError as e:
        return str(e).splitlines()
    source = path.read_text(encoding="utf-8")
    return [f"{path}:{f.line}: {f.where}: {f.message}" for f in lint(script, source)]
