"""``mloop keys``: the project's signing keys."""

from __future__ import annotations

from pathlib import Path

import typer

from mloop.cli.context import creates_store, use_store
from mloop.cli.output import handle_errors, millis_text, print_json, print_labelled, say, table

# The domain package (mloop.models) is imported inside each command, not here: it
# loads SQLAlchemy, fsspec and numpy, which `mloop keys --help` need not.

app = typer.Typer(help="Signing keys for model packages.", no_args_is_help=True)


@app.command("init")
@handle_errors
@creates_store
def init(
    ctx: typer.Context,
    path: Path | None = typer.Option(
        None, "--path", help="Where the private key goes (default MLOOP_SIGNING_KEY)."
    ),
    rotate: bool = typer.Option(False, "--rotate", help="Replace the key and revoke the old one."),
    sign_existing: bool = typer.Option(
        False,
        "--sign-existing",
        help="Also sign every unsigned registered version (its files re-read first).",
    ),
) -> None:
    """Create the project's Ed25519 key pair and trust it; from then on models must be signed."""
    from mloop import models
    from mloop.errors import AlreadyExists
    from mloop.tracking import fluent

    use_store(ctx)
    try:
        key = models.init_keys(path, rotate=rotate)
    except AlreadyExists:
        if not sign_existing:
            raise
        say("the signing key is trusted already")  # and now signs what is unsigned
    else:
        where = path or fluent.current_client().settings.resolved_signing_key()
        say(f"signing key {key.key_id} trusted; private key at {where} (mode 600)")
        say("registered versions are now signed, and unsigned packages are refused")
    if sign_existing:
        signed = models.sign_existing()
        say(f"signed {len(signed)} existing version(s): {', '.join(v.ref for v in signed)}")
        return
    held = models.unsigned_versions(held_by_alias=True)
    if held:
        served = ", ".join(f"{v.ref} ({', '.join(v.aliases)})" for v in held)
        print_labelled(
            "warning:",
            f"these versions are served by an alias and are not signed, so they no longer "
            f"load: {served}; sign them with `mloop models sign REF`, or all unsigned "
            "versions at once with `mloop keys init --sign-existing`",
            style="yellow",
            err=True,
        )


@app.command("ls")
@handle_errors
def list_keys(
    ctx: typer.Context,
    show_all: bool = typer.Option(False, "--all", help="Include revoked keys."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the public keys the project trusts."""
    from mloop import models

    use_store(ctx)
    keys = models.trusted_keys(include_revoked=show_all)
    if as_json:
        print_json(keys)
        return
    table(
        "Signing keys",
        ["key id", "created by", "created", "revoked", "public key"],
        [
            [
                k.key_id,
                k.created_by,
                millis_text(k.created_time),
                millis_text(k.revoked_time),
                k.public_key,
            ]
            for k in keys
        ],
    )


@app.command("revoke")
@handle_errors
def revoke(
    ctx: typer.Context,
    key_id: str = typer.Argument(..., help="The key to stop trusting."),
) -> None:
    """Stop trusting a key: versions it signed no longer load."""
    from mloop import models

    use_store(ctx)
    key = models.revoke_key(key_id)
    say(f"signing key {key.key_id} revoked")
