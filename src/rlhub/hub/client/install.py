"""`rlhub install owner/name[@version]`: hash-pinned, from the hub only, without touching what is installed.

How it stays safe:
- The environment and every dependency the hub has are resolved from the hub's PEP 691 index, downloaded,
  checked against the index's sha256 and installed with `pip --isolated --no-index --no-deps
  --require-hashes` from the local files: pip never consults another index for them, so a same-named
  package elsewhere (even with a higher version) cannot be picked (dependency confusion).
- Requirements already satisfied by installed packages are left alone. One that would need an installed
  package upgraded or downgraded is a conflict, explained, unless `upgrade_deps` allows it.
- Dependencies the hub does not have are third-party packages: pip installs them from the user's own
  index configuration, constrained to the installed versions of everything else.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from rlhub.core.ids import EnvId
from rlhub.hub.client.api import HubClient, IndexFile, IndexPage
from rlhub.hub.client.dists import read_dist, requires_dist
from rlhub.hub.client.errors import HubNotFound, InstallError
from rlhub.hub.client.upload import Progress

DownloadProgress = Callable[[IndexFile], Progress | None]
"""Given the file about to be downloaded, returns the per-chunk callback (or None)."""

_PROBE = """
import importlib.metadata as m, importlib.util, json, os, platform, sys
v = sys.implementation.version
impl = f"{v.major}.{v.minor}.{v.micro}" + ("" if v.releaselevel == "final" else v.releaselevel[0] + str(v.serial))
markers = {
    "implementation_name": sys.implementation.name, "implementation_version": impl, "os_name": os.name,
    "platform_machine": platform.machine(), "platform_release": platform.release(),
    "platform_system": platform.system(), "platform_version": platform.version(),
    "python_full_version": platform.python_version(),
    "platform_python_implementation": platform.python_implementation(),
    "python_version": ".".join(platform.python_version_tuple()[:2]), "sys_platform": sys.platform,
}
installed = {}
for d in m.distributions():
    name = d.metadata["Name"]
    if name and name not in installed:
        installed[name] = d.version
has_pip = importlib.util.find_spec("pip") is not None
print(json.dumps({"markers": markers, "installed": installed, "pip": has_pip}))
"""


@dataclass(frozen=True)
class TargetEnv:
    """The Python environment being installed into: its installed distributions and marker values."""

    python: str
    installed: dict[str, str]
    """Canonical distribution name -> installed version."""
    markers: dict[str, str]
    has_pip: bool = True
    """Whether the target can run its own pip; if not, this interpreter's pip drives it (`pip --python`)."""

    @classmethod
    def probe(cls, python: str | None = None) -> TargetEnv:
        python = python or sys.executable
        try:
            proc = subprocess.run([python, "-c", _PROBE], capture_output=True, text=True, timeout=60)
        except OSError as exc:
            raise InstallError(f"cannot run {python}: {exc.strerror}") from None
        if proc.returncode != 0:
            raise InstallError(f"cannot inspect {python}: {proc.stderr.strip()[-500:]}")
        data = json.loads(proc.stdout)
        installed: dict[str, str] = {canonicalize_name(k): v for k, v in data["installed"].items()}
        return cls(python, installed, data["markers"], data["pip"])

    @property
    def python_version(self) -> str:
        return self.markers["python_full_version"]


@dataclass(frozen=True)
class Pinned:
    """A hub wheel chosen, downloaded and verified."""

    name: str
    version: str
    path: Path
    sha256: str
    required_by: str


@dataclass
class InstallPlan:
    env: EnvId
    hub: list[Pinned] = field(default_factory=list)
    third_party: list[str] = field(default_factory=list)
    """Requirements the hub does not have, for pip and the user's own index."""
    satisfied: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    """Installed packages that will be upgraded or downgraded (with `upgrade_deps`, or the env itself)."""


def _pure_wheel(filename: str) -> bool:
    _, _, _, tags = parse_wheel_filename(filename)
    return all(t.abi == "none" and t.platform == "any" and t.interpreter.startswith("py3") for t in tags)


def choose(page: IndexPage, spec: SpecifierSet, target: TargetEnv) -> tuple[Version, IndexFile]:
    """The newest pure-Python wheel of `page` matching `spec` and the target's Python.

    Yanked files are skipped unless the spec pins their exact version (PEP 592).
    """
    pinned = {Version(s.version) for s in spec if s.operator in ("==", "===") and "*" not in s.version}
    candidates: list[tuple[Version, IndexFile]] = []
    for file in page.files:
        if not file.filename.endswith(".whl") or not _pure_wheel(file.filename):
            continue
        try:
            version = parse_wheel_filename(file.filename)[1]
        except (InvalidVersion, ValueError):
            continue
        if file.yanked and version not in pinned:
            continue
        if file.requires_python and not SpecifierSet(file.requires_python).contains(target.python_version, True):
            continue
        if spec.contains(version, prereleases=bool(pinned) or None):
            candidates.append((version, file))
    if not candidates:
        wanted = f" {spec}" if str(spec) else ""
        raise InstallError(
            f"the hub has no installable wheel of {page.name}{wanted} for Python {target.python_version} "
            "(yanked versions are only installed when pinned with @VERSION)"
        )
    return max(candidates, key=lambda c: c[0])


async def plan_install(
    hub: HubClient,
    env: EnvId,
    target: TargetEnv,
    dest: Path,
    upgrade_deps: bool = False,
    progress: DownloadProgress | None = None,
) -> InstallPlan:
    """Resolve `env` and its dependencies, downloading (and verifying) every wheel that comes from the hub."""
    plan = InstallPlan(env)
    chosen: dict[str, str] = {}
    root = Requirement(f"{env.distribution}=={env.version}" if env.version else env.distribution)
    queue: list[tuple[Requirement, str]] = [(root, "")]
    while queue:
        req, required_by = queue.pop(0)
        name = canonicalize_name(req.name)
        who = required_by or "you"
        if name in chosen:
            if not req.specifier.contains(chosen[name], prereleases=True):
                plan.conflicts.append(f"{required_by} needs {req}, but {name} {chosen[name]} is needed by another")
            continue
        installed = target.installed.get(name)
        if required_by and installed and req.specifier.contains(installed, prereleases=True):
            plan.satisfied.append(f"{name} {installed} (installed; {who} needs {req.specifier or 'any'})")
            continue
        page = await hub.project(name)
        if page is None:
            if not required_by:
                raise HubNotFound(f"{env.base} is not on the hub at {hub.url} (try `rlhub search {env.name}`)")
            if installed and not upgrade_deps:
                plan.conflicts.append(f"{who} needs {req}, but {name} {installed} is installed")
            else:
                plan.third_party.append(str(req))
                if installed:
                    plan.changes.append(f"{name} {installed} -> per {req}")
            continue
        version, file = choose(page, req.specifier, target)
        chosen[name] = str(version)
        if installed and Version(installed) == version:
            plan.satisfied.append(f"{name} {installed} (installed)")
            continue
        if installed and required_by and not upgrade_deps:
            plan.conflicts.append(f"{who} needs {req}, but {name} {installed} is installed")
            continue
        if installed:
            plan.changes.append(f"{name} {installed} -> {version}")
        path = await hub.download(file, dest, progress(file) if progress else None)
        plan.hub.append(Pinned(name, str(version), path, file.hashes["sha256"], required_by))
        extras = set(req.extras) | {""}
        for text in requires_dist(read_dist(path)):
            dep = Requirement(text)
            if dep.marker is None or any(dep.marker.evaluate({**target.markers, "extra": e}) for e in extras):
                queue.append((dep, f"{name} {version}"))
    return plan


def explain_conflicts(plan: InstallPlan) -> str:
    lines = "\n".join(f"  - {c}" for c in plan.conflicts)
    return (
        f"installing {plan.env} would change packages you already have:\n{lines}\n"
        "nothing was installed. Rerun with --upgrade-deps to let them change, or install into a fresh venv."
    )


def pip(target: TargetEnv, args: list[str]) -> str:
    """Run pip for the target environment: its own pip if it has one, else this one's with `--python`."""
    own = [target.python, "-m", "pip"]
    cmd = own if target.has_pip else [sys.executable, "-m", "pip", "--python", target.python]
    proc = subprocess.run([*cmd, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-20:])
        raise InstallError(f"pip failed ({' '.join(args[:1])}):\n{tail}")
    return proc.stdout


def apply(plan: InstallPlan, target: TargetEnv, upgrade_deps: bool = False) -> None:
    """Install a conflict-free plan: third-party requirements first, then the pinned hub wheels."""
    if plan.conflicts and not upgrade_deps:
        raise InstallError(explain_conflicts(plan))
    with tempfile.TemporaryDirectory(prefix="rlhub-install-") as tmp:
        if plan.third_party:
            args = ["install", "--disable-pip-version-check", *plan.third_party]
            if not upgrade_deps:
                hub_names = {p.name for p in plan.hub}
                pins = [f"{n}=={v}" for n, v in sorted(target.installed.items()) if n not in hub_names]
                constraints = Path(tmp, "constraints.txt")
                constraints.write_text("\n".join(pins) + "\n")
                args += ["--constraint", str(constraints)]
            try:
                pip(target, args)
            except InstallError as exc:
                if upgrade_deps or "conflict" not in str(exc):
                    raise
                hint = "pip was held to your installed versions; --upgrade-deps lets it change them"
                raise InstallError(f"{exc}\n{hint}") from None
        if plan.hub:
            requirements = Path(tmp, "hub.txt")
            lines = [f"{p.name} @ {p.path.resolve().as_uri()} --hash=sha256:{p.sha256}\n" for p in plan.hub]
            requirements.write_text("".join(lines))
            pinned = ["--no-index", "--no-deps", "--require-hashes", "-r", str(requirements)]
            pip(target, ["--isolated", "install", "--disable-pip-version-check", *pinned])


async def install(
    hub: HubClient,
    spec: str | EnvId,
    python: str | None = None,
    upgrade_deps: bool = False,
    progress: DownloadProgress | None = None,
) -> InstallPlan:
    """Resolve, download, verify and install `owner/name[@version]` into `python`'s environment."""
    env = EnvId.parse(spec) if isinstance(spec, str) else spec
    target = TargetEnv.probe(python)
    with tempfile.TemporaryDirectory(prefix="rlhub-download-") as dest:
        plan = await plan_install(hub, env, target, Path(dest), upgrade_deps, progress)
        apply(plan, target, upgrade_deps)
    return plan


__all__ = [
    "DownloadProgress",
    "InstallPlan",
    "Pinned",
    "TargetEnv",
    "apply",
    "choose",
    "explain_conflicts",
    "install",
    "pip",
    "plan_install",
]
