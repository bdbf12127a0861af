"""Hub commands: `login`, `logout`, `push`, `install`, `search`, `info`, `yank`, `leaderboard`, `push-results`.

Each command is a thin shell over `rlhub.hub.client`: parse options, call the client, print a table
or one line. Errors are `HubError`s (server down, 401/403/404/409 explained) printed without a traceback.
"""

from __future__ import annotations

import asyncio
import getpass
import platform
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.filesize import decimal
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

if TYPE_CHECKING:
    from rlhub.hub.client import DistFile, HubClient, IndexFile
    from rlhub.hub.client.upload import Progress as OnBytes
    from rlhub.hub.schema import UploadResponse

console = Console()
HubOption = Annotated[
    str | None, typer.Option("--hub", help="Hub URL (default: $RLHUB_HUB_URL or http://127.0.0.1:8787).")
]
TokenOption = Annotated[
    str | None, typer.Option("--token", help="API token (default: $RLHUB_TOKEN or the one saved by `rlhub login`).")
]


def register(app: typer.Typer) -> None:
    app.command("login")(login)
    app.command("logout")(logout)
    app.command("push")(push)
    app.command("install")(install)
    app.command("search")(search)
    app.command("info")(info)
    app.command("yank")(yank)
    app.command("leaderboard")(leaderboard)
    app.command("push-results")(push_results)


def _client(hub: str | None, token: str | None = None) -> HubClient:
    from rlhub.hub.client import HubClient

    return HubClient(hub, token)


@contextmanager
def _bars() -> Iterator[Progress]:
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        yield progress


def _bar(progress: Progress, label: str, total: int | None) -> OnBytes:
    task = progress.add_task(label, total=total)
    return lambda n: progress.advance(task, n)


def login(
    hub: HubOption = None,
    token: Annotated[str | None, typer.Option("--token", help="Save this token instead of logging in.")] = None,
    username: Annotated[str | None, typer.Option("--username", "-u", help="Log in with a password.")] = None,
) -> None:
    """Save a token for a hub in $RLHUB_HOME/credentials.json (mode 0600): a given one, or a new one from a password."""
    from rlhub.hub.client import HubClient, save_token

    async def run() -> tuple[str, str, str]:
        if token:
            async with HubClient(hub, token) as client:
                return token, (await client.whoami()).username, client.url
        user = username or typer.prompt("username")
        password = getpass.getpass("password: ")
        async with HubClient(hub, token="") as client:
            created = await client.create_token(user, password, name=f"rlhub-cli@{platform.node() or 'host'}")
            return created.token, user, client.url

    secret, user, url = asyncio.run(run())
    path = save_token(url, secret, user)
    console.print(f"logged in to {url} as [bold]{user}[/]; token saved in {path}")


def logout(hub: HubOption = None) -> None:
    """Forget the token saved for a hub (the token itself stays valid until revoked on the hub)."""
    from rlhub.hub.client import forget_token, hub_url

    url = hub_url(hub)
    console.print(f"logged out of {url}" if forget_token(url) else f"no token saved for {url}", highlight=False)


def push(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Environment package directory (default .), or built .whl/.tar.gz files."),
    ] = None,
    hub: HubOption = None,
    token: TokenOption = None,
    private: Annotated[bool, typer.Option("--private", help="A new environment only its owner's tokens see.")] = False,
) -> None:
    """Build the wheel and sdist of an environment package and publish them to the hub."""
    from rlhub.hub.client import build_dists, read_dist
    from rlhub.hub.schema import CheckStatus

    paths = paths or [Path(".")]
    with tempfile.TemporaryDirectory(prefix="rlhub-build-") as out:
        if len(paths) == 1 and paths[0].is_dir():
            with console.status(f"building {paths[0].resolve().name} (wheel + sdist)"):
                dists = build_dists(paths[0], Path(out))
        else:
            dists = [read_dist(p) for p in paths]
        answers = asyncio.run(_upload(dists, hub, token, private))
        kinds = ", ".join(f"{_kind(d)} {decimal(d.size)}" for d in dists)
    first = answers[0]
    check = {CheckStatus.pending: "check queued", CheckStatus.running: "check running"}.get(
        first.check, f"check {first.check.value}"
    )
    console.print(f"published [bold]{first.owner}/{first.name}@{first.version}[/] ({kinds}) · {check}", highlight=False)


async def _upload(dists: list[DistFile], hub: str | None, token: str | None, private: bool) -> list[UploadResponse]:
    from rlhub.hub.client import HubConflict

    async with _client(hub, token) as client:
        out = []
        with _bars() as progress:
            for dist in dists:
                try:
                    out.append(await client.upload(dist, _bar(progress, dist.path.name, dist.size), private))
                except HubConflict as exc:
                    hint = "versions are immutable: bump the version in pyproject.toml"
                    raise HubConflict(f"{dist.path.name}: {exc}\n{hint}", exc.code, exc.status) from None
        return out


def _kind(dist: DistFile) -> str:
    return "wheel" if dist.filetype == "bdist_wheel" else "sdist"


def install(
    spec: Annotated[str, typer.Argument(help="owner/name or owner/name@version.")],
    upgrade_deps: Annotated[
        bool, typer.Option("--upgrade-deps", help="Allow upgrading/downgrading packages already installed.")
    ] = False,
    python: Annotated[
        str | None, typer.Option("--python", help="Install into this interpreter's environment (default: this one).")
    ] = None,
    hub: HubOption = None,
    token: TokenOption = None,
) -> None:
    """Install an environment from the hub, hash-pinned; packages you already have are left alone."""
    from rlhub.hub.client.install import InstallPlan
    from rlhub.hub.client.install import install as run_install

    async def run() -> InstallPlan:
        async with _client(hub, token) as client:
            with _bars() as progress:

                def bar(file: IndexFile) -> OnBytes:
                    return _bar(progress, file.filename, file.size)

                return await run_install(client, spec, python, upgrade_deps, bar)

    plan = asyncio.run(run())
    for change in plan.changes:
        console.print(f"  [yellow]changed[/] {change}", highlight=False)
    for dep in plan.third_party:
        console.print(f"  [dim]from your index:[/] {dep}", highlight=False)
    if not plan.hub:
        console.print(f"{plan.env} is already installed", highlight=False)
    for pinned in plan.hub:
        via = f" [dim](for {pinned.required_by})[/]" if pinned.required_by else ""
        console.print(f"installed [bold]{pinned.name} {pinned.version}[/] sha256:{pinned.sha256[:12]}{via}")


def search(
    query: Annotated[str, typer.Argument(help="Words to look for in names, summaries, tags and READMEs.")] = "",
    tag: Annotated[str | None, typer.Option("--tag", help="Only environments with this tag.")] = None,
    sort: Annotated[str, typer.Option("--sort", help="relevance, downloads, recent or stars.")] = "relevance",
    limit: Annotated[int, typer.Option("--limit", "-n")] = 20,
    hub: HubOption = None,
) -> None:
    """Find environments on the hub."""
    from rlhub.core.errors import ConfigError
    from rlhub.hub.schema import SearchResponse, SortOrder

    try:
        order = SortOrder(sort)
    except ValueError:
        raise ConfigError(f"--sort must be one of {', '.join(s.value for s in SortOrder)}") from None

    async def run() -> SearchResponse:
        async with _client(hub) as client:
            return await client.search(query, tag, order, limit)

    found = asyncio.run(run())
    if not found.results:
        console.print("no environments found")
        return
    table = Table("environment", "latest", "downloads", "stars", "tags", "summary")
    for env in found.results:
        table.add_row(
            f"{env.owner}/{env.name}",
            env.latest_version or "-",
            str(env.downloads),
            str(env.stars),
            ", ".join(env.tags),
            env.summary,
        )
    console.print(table)
    if found.total > len(found.results):
        console.print(f"[dim]{len(found.results)} of {found.total} shown (--limit)[/]")


def info(spec: Annotated[str, typer.Argument(help="owner/name.")], hub: HubOption = None) -> None:
    """An environment's versions, files, check results and install command."""
    from rlhub.hub.schema import CheckStatus, EnvInfo

    async def run() -> EnvInfo:
        async with _client(hub) as client:
            return await client.info(spec)

    env = asyncio.run(run())
    s = env.summary
    console.print(f"[bold]{s.owner}/{s.name}[/] {s.latest_version or ''} — {s.summary}", highlight=False)
    private = " · [yellow]private[/]" if s.private else ""
    console.print(f"  downloads {s.downloads} · stars {s.stars} · tags {', '.join(s.tags) or '-'}{private}")
    console.print(f"  install: [cyan]rlhub install {s.owner}/{s.name}[/]")
    table = Table("version", "check", "files", "published", "requires")
    for v in env.versions:
        version = (
            f"{v.version} [red](yanked{': ' + v.yanked_reason if v.yanked_reason else ''})[/]"
            if v.yanked
            else v.version
        )
        files = "\n".join(f"{f.filename} ({decimal(f.size)})" for f in v.files)
        table.add_row(
            version, v.check.status.value, files, f"{v.created_at:%Y-%m-%d %H:%M}", ", ".join(v.requires_dist)
        )
    console.print(table)
    newest = env.versions[0].check if env.versions else None
    if newest and newest.status in (CheckStatus.failed, CheckStatus.error) and newest.report:
        report = "\n".join(newest.report.strip().splitlines()[-12:])
        console.print(f"[red]check {newest.status.value}[/] for {env.versions[0].version}:\n{report}", highlight=False)


def yank(
    spec: Annotated[str, typer.Argument(help="owner/name@version.")],
    reason: Annotated[str, typer.Option("--reason", help="Why, shown to users.")] = "",
    undo: Annotated[bool, typer.Option("--undo", help="Un-yank instead.")] = False,
    hub: HubOption = None,
    token: TokenOption = None,
) -> None:
    """Yank a version (installs skip it unless pinned), or un-yank it with --undo."""
    from rlhub.hub.schema import VersionInfo

    async def run() -> VersionInfo:
        async with _client(hub, token) as client:
            return await client.yank(spec, reason, undo)

    version = asyncio.run(run())
    console.print(f"{spec}: {'yanked' if version.yanked else 'available (not yanked)'}", highlight=False)


def leaderboard(
    spec: Annotated[str, typer.Argument(help="owner/name or owner/name@version.")],
    hub: HubOption = None,
) -> None:
    """Results pushed for an environment, best re-scored mean first."""
    from rlhub.core.ids import EnvId
    from rlhub.hub.schema import Leaderboard

    env = EnvId.parse(spec)

    async def run() -> Leaderboard:
        async with _client(hub) as client:
            return await client.leaderboard(env, env.version)

    board = asyncio.run(run())
    if not board.entries:
        console.print(f"no results for {env} yet (push one with `rlhub eval ... --push`)", highlight=False)
        return
    table = Table("#", "model", "version", "score", "± stderr", "n", "by", "date")
    for entry in board.entries:
        r = entry.result
        table.add_row(
            str(entry.rank),
            r.model,
            r.version,
            f"{r.score:.3f}",
            f"{r.stderr:.3f}",
            str(r.n),
            r.submitter,
            f"{r.created_at:%Y-%m-%d}",
        )
    console.print(table)


def push_results(
    log: Annotated[Path, typer.Argument(help="A rollout log (.jsonl) written by `rlhub eval`.")],
    model: Annotated[
        str | None, typer.Option("--model", help="Name on the leaderboard (default: from the log).")
    ] = None,
    hub: HubOption = None,
    token: TokenOption = None,
) -> None:
    """Upload an evaluation log; the hub re-scores it and lists it on the environment's leaderboard."""
    from rlhub.hub.schema import ResultInfo

    async def run() -> tuple[ResultInfo, str]:
        async with _client(hub, token) as client:
            return await client.push_results(log, model), client.url

    result, url = asyncio.run(run())
    if not result.verified:
        console.print(
            f"result #{result.id}: {result.model} on {result.owner}/{result.name}@{result.version} claims "
            f"{result.score:.3f} ± {result.stderr:.3f} (n={result.n}); {result.note or 'not verified'}; "
            "it is not on the leaderboard",
            highlight=False,
        )
        return
    console.print(
        f"result #{result.id}: {result.model} on {result.owner}/{result.name}@{result.version} scored "
        f"{result.score:.3f} ± {result.stderr:.3f} (n={result.n}, re-scored by the hub)",
        highlight=False,
    )
    console.print(f"leaderboard: {url}/{result.owner}/{result.name}")


__all__ = ["register"]
