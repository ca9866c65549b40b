"""`voicebot serve | users add | tokens create`: the operator console and its accounts."""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
from pathlib import Path
from typing import Any

from voicebot.campaign.store import DEFAULT_URL, Store
from voicebot.core.errors import VoicebotError

PROMPTS = Path(__file__).resolve().parent.parent.parent / "prompts"


def add_parser(sub: Any) -> None:
    db = {
        "default": os.environ.get("VOICEBOT_DB", DEFAULT_URL),
        "help": "store URL: sqlite:///file.db or postgresql+psycopg://...",
    }
    serve = sub.add_parser("serve", help="the operator console: web dashboard and HTTP API")
    serve.add_argument("--db", **db)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--out", default="out/console", help="call reports, recordings, uploads")
    serve.add_argument("--scripts", default=str(PROMPTS), help="folder of call scripts")
    serve.add_argument(
        "--demo",
        action="store_true",
        help="add the demo campaign (one contact per persona) and, if there is "
        "no user yet, an admin whose password is printed once",
    )
    serve.add_argument("--secure-cookies", action="store_true", help="behind HTTPS")
    serve.add_argument("--config", help="voicebot YAML config: models and call options")
    serve.set_defaults(func=_serve)
    users = sub.add_parser("users", help="console users")
    users.add_argument("--db", **db)
    user_actions = users.add_subparsers(dest="action", required=True)
    add = user_actions.add_parser("add")
    add.add_argument("name")
    add.add_argument("--role", choices=["viewer", "operator", "admin"], default="viewer")
    add.add_argument("--password-file", help="read the password here (else: asked for)")
    add.add_argument("--no-password", action="store_true", help="API tokens only")
    users.set_defaults(func=_users)
    tokens = sub.add_parser("tokens", help="API tokens (shown once, stored hashed)")
    tokens.add_argument("--db", **db)
    token_actions = tokens.add_subparsers(dest="action", required=True)
    create = token_actions.add_parser("create")
    create.add_argument("user")
    create.add_argument("--label", default="")
    tokens.set_defaults(func=_tokens)


def _users(args: argparse.Namespace) -> int:
    from voicebot.web.auth import add_user, audit

    store = Store(args.db)
    password = None
    if args.password_file:
        password = Path(args.password_file).read_text(encoding="utf-8").strip()
    elif not args.no_password:
        password = getpass.getpass(f"password for {args.name}: ")
    if password is not None and len(password) < 10:
        raise VoicebotError("password: at least 10 characters")
    add_user(store, args.name, args.role, password)
    audit(store, "cli", "user.add", f"user {args.name}", {"role": args.role})
    print(f"user {args.name} ({args.role}) added")
    return 0


def _tokens(args: argparse.Namespace) -> int:
    from voicebot.web.auth import audit, create_token

    store = Store(args.db)
    token = create_token(store, args.user, args.label)
    audit(store, "cli", "token.create", f"user {args.user}")
    print(token)
    return 0


def _serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from voicebot.web.app import create_app
    except ImportError as e:
        raise VoicebotError(
            f"the console needs the web extra: pip install 'voicebot[web]' ({e})"
        ) from None
    from voicebot.app.config import VoicebotConfig

    config = VoicebotConfig.load(Path(args.config) if args.config else None)
    store = Store(args.db)
    if args.demo:
        seed_demo(store, Path(args.scripts) / "survey_en.yaml")
    app = create_app(store, Path(args.out), Path(args.scripts), args.secure_cookies, config)
    print(f"voicebot console on http://{args.host}:{args.port}/ (API docs: /docs)")
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=5,
    )  # open wallboard streams end then
    return 0


def seed_demo(store: Store, script: Path) -> None:
    """The demo campaign (one contact per simulated persona, for the persona trunk) and a
    first admin when there is no user."""
    from sqlalchemy import func, select

    from voicebot.app.web_trunks import persona_names
    from voicebot.campaign.config import DAYS, CallingWindow, CampaignConfig
    from voicebot.campaign.contacts import import_contacts
    from voicebot.campaign.models import Campaign
    from voicebot.web.auth import add_user
    from voicebot.web.models import User

    with store.session() as s:
        has_demo = s.scalar(select(Campaign).where(Campaign.name == "demo")) is not None
        users = s.scalar(select(func.count(User.id))) or 0
    if not has_demo:
        window = CallingWindow(start="00:00", end="23:59:59", days=list(DAYS))
        store.create(
            "demo", str(script), CampaignConfig(window=window, max_attempts=1, concurrency=4, cps=2)
        )
        contacts = Path(store.url.removeprefix("sqlite:///")).parent / "demo_contacts.csv"
        if not store.url.startswith("sqlite:///"):
            contacts = Path("out/demo_contacts.csv")
        contacts.parent.mkdir(parents=True, exist_ok=True)
        contacts.write_text(
            "phone,persona\n"
            + "".join(f"+1 212 555 {100 + i:04d},{p}\n" for i, p in enumerate(persona_names()))
        )
        import_contacts(store, "demo", contacts, source="demo")
        contacts.unlink()
        print("demo campaign added: start it on the persona trunk from its wallboard")
    if not users:
        password = secrets.token_urlsafe(12)
        add_user(store, "admin", "admin", password)
        print(
            f"first user: admin, password {password} (shown once; add others with "
            "`voicebot users add`)"
        )
