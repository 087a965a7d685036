"""Metabase on Heroku: pipeline, app, application database, config, image and dyno formation.

One `MetabaseApp` per stack replaces every manual step of the deployment plan:

- The pipeline `mfb-metabase` belongs to the staging stack. Production finds it through a
  StackReference to that stack (`herokuPipelineOwnerStack`) or `herokuPipelineId`, and never
  creates a second one. Each stack couples its own app at its own stage.
- The app runs on the container stack, in the configured team and region, with its own Heroku
  Postgres add-on for Metabase's application database (not the analytics database).
- Config vars: the image's entrypoint derives `MB_DB_CONNECTION_URI` (JDBC, sslmode=require) from
  the add-on's `DATABASE_URL` at every boot, and `MB_JETTY_PORT` from `PORT`, so when Heroku
  rotates the add-on credentials the restart it triggers is all that is needed. `MB_SITE_URL`
  comes from the app's URL, `MB_ENCRYPTION_SECRET_KEY` from a per-stack random secret, and
  `JAVA_HEAP` from the dyno size.
- Image: staging builds `dashboards/` (heroku.yml + Dockerfile.heroku + entrypoint only) through
  the Build API — Heroku builds it, no local Docker. Production promotes the exact staging
  release through the pipeline, only when staging runs the same Metabase version built from the
  same image files; `image_strategy="rebuild"` builds the same source in production instead (see
  the note on promotability in the README / report).
- The web formation is declared after the first release exists (Heroku refuses a formation for a
  process type no release has), at a size of at least standard-2x.

Everything that can be wrong (config, the Dockerfile pin, the pipeline reference) is checked
before the component registers anything.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pulumi
import pulumi_random as random
from pulumiverse_heroku import addon, build, formation, team
from pulumiverse_heroku import app as heroku_app
from pulumiverse_heroku import pipeline as heroku_pipeline

from components.config import ConfigError, StackConfig, StackSecrets
from components.heroku.promotion import PipelinePromotion

REPO = Path(__file__).resolve().parents[2]
IMAGE_DIR = REPO / "dashboards"
# The Build API source: exactly these files, at the root of the tarball (heroku.yml must be at
# the root of the source and Heroku's Docker build context is the Dockerfile's directory).
IMAGE_FILES = ("heroku.yml", "Dockerfile.heroku", "heroku-entrypoint.sh")
EXECUTABLE_FILES = frozenset({"heroku-entrypoint.sh"})
# Repo-relative, so the Build input is the same on every machine (an absolute path would make
# every other checkout look like a change and rebuild staging). Git-ignored.
SOURCE_TARBALL = Path(".local") / "heroku-build" / "metabase-image.tar.gz"
FROM_RE = re.compile(r"^\s*FROM\s+metabase/metabase:(\S+)", re.IGNORECASE | re.MULTILINE)

# JVM heap: ~75 % of the dyno's RAM, but never less than 352 MB left for everything that is not
# heap (metaspace for Metabase's ~40k classes, JIT code cache, thread stacks, GC structures,
# direct buffers). On standard-2x (1 GB) that is -Xmx672m, Heroku's own JVM default for 2X.
NON_HEAP_MIN_MB = 352
NON_HEAP_SHARE = 0.25

# Stack outputs of the staging stack that the production stack reads through its StackReference.
OUT_PIPELINE_ID = "herokuPipelineId"
OUT_APP_ID = "metabaseAppId"
OUT_RELEASE_ID = "metabaseReleaseId"
OUT_VERSION = "metabaseVersion"
OUT_SOURCE_VERSION = "metabaseSourceVersion"
STAGING_REFERENCE_KEYS = (
    OUT_PIPELINE_ID,
    OUT_APP_ID,
    OUT_RELEASE_ID,
    OUT_VERSION,
    OUT_SOURCE_VERSION,
)

ImageStrategy = Literal["promote", "rebuild"]


# --------------------------------------------------------------------------------------------
# Pure helpers (tested directly)
# --------------------------------------------------------------------------------------------
def java_heap_mb(dyno_memory_mb: int) -> int:
    """Heap size for a dyno with `dyno_memory_mb` of RAM (see NON_HEAP_MIN_MB)."""
    non_heap = max(NON_HEAP_MIN_MB, int(dyno_memory_mb * NON_HEAP_SHARE))
    return dyno_memory_mb - non_heap


def dockerfile_version(image_dir: Path = IMAGE_DIR) -> str:
    """The metabase/metabase tag `Dockerfile.heroku` builds FROM."""
    text = (image_dir / "Dockerfile.heroku").read_text()
    found = FROM_RE.findall(text)
    if len(found) != 1:
        raise ConfigError(
            [
                (
                    "metabaseVersion",
                    f"{image_dir / 'Dockerfile.heroku'} must have exactly one "
                    f"'FROM metabase/metabase:<tag>' line (found {len(found)})",
                )
            ]
        )
    return found[0]


def _file_mode(name: str) -> int:
    return 0o755 if name in EXECUTABLE_FILES else 0o644


def image_digest(image_dir: Path = IMAGE_DIR) -> str:
    """sha256 over the image files' names, modes and contents (what the build depends on)."""
    h = hashlib.sha256()
    for name in IMAGE_FILES:
        data = (image_dir / name).read_bytes()
        h.update(f"{name}\0{_file_mode(name):o}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def source_tarball_bytes(image_dir: Path = IMAGE_DIR) -> bytes:
    """A byte-for-byte reproducible .tar.gz of IMAGE_FILES (fixed order, owner, mtime)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in IMAGE_FILES:
            data = (image_dir / name).read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), _file_mode(name), 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


@dataclass(frozen=True)
class ImageSource:
    path: str  # repo-relative path of the tarball handed to the Build API
    digest: str  # image_digest()
    version: str  # the pinned Metabase tag

    @property
    def source_version(self) -> str:
        """Recorded as the build's `source_blob.version`; production checks it before promoting."""
        return f"{self.version}+{self.digest[:12]}"


def prepare_image_source(
    version: str, image_dir: Path = IMAGE_DIR, root: Path = REPO
) -> ImageSource:
    """Check the Dockerfile pins `version`, then write the build tarball (atomically)."""
    missing = [n for n in IMAGE_FILES if not (image_dir / n).is_file()]
    if missing:
        raise ConfigError(
            [("metabaseVersion", f"image files missing in {image_dir}: {', '.join(missing)}")]
        )
    pinned = dockerfile_version(image_dir)
    if pinned != version:
        raise ConfigError(
            [
                (
                    "metabaseVersion",
                    f"is '{version}' but dashboards/Dockerfile.heroku builds FROM "
                    f"metabase/metabase:{pinned}; change both together (the stack config is the "
                    "pin, the Dockerfile must repeat it)",
                )
            ]
        )
    target = root / SOURCE_TARBALL
    target.parent.mkdir(parents=True, exist_ok=True)
    data = source_tarball_bytes(image_dir)
    if not target.is_file() or target.read_bytes() != data:
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
    return ImageSource(
        path=SOURCE_TARBALL.as_posix(), digest=image_digest(image_dir), version=version
    )


# --------------------------------------------------------------------------------------------
# The staging stack, as production sees it
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PipelineOwner:
    """The pipeline production couples into, and the staging release it may promote."""

    pipeline_id: str
    app_id: str | None = None  # None: the provider finds the pipeline's staging app
    release_id: str | None = None
    version: str | None = None
    source_version: str | None = None


def _owner_error(message: str) -> ConfigError:
    return ConfigError([("herokuPipelineOwnerStack", message)], pulumi.get_stack())


def read_pipeline_owner(stack_name: str) -> PipelineOwner:
    """Read the staging stack's outputs now, so a bad reference fails before any Heroku resource.

    A StackReference's outputs are an Output; waiting for them here (the way Pulumi's own
    synchronous invokes wait) turns "cannot be resolved" and "key missing" into one clear error
    raised while the program is still being evaluated.
    """
    from pulumi.runtime.sync_await import _sync_await

    ref = pulumi.StackReference(stack_name)

    async def fetch() -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key in STAGING_REFERENCE_KEYS:
            details = await ref.get_output_details(key)
            values[key] = details.value if details.value is not None else details.secret_value
        return values

    try:
        values = _sync_await(fetch())
    except Exception as e:  # any failure here means the same thing to the user
        error = _owner_error(
            f"cannot read stack '{stack_name}' ({e}). Set herokuPipelineOwnerStack to the "
            "staging stack's fully qualified name (org/mfb-analytics/staging), make sure it has "
            "been deployed and that you can access it (`pulumi stack output -s <name>`)"
        )
        # The failed read is also reported by the runtime, and may be reported first: log ours
        # now so the fix is on screen whichever error the run ends with.
        pulumi.log.error(str(error))
        raise error from None
    missing = [k for k in STAGING_REFERENCE_KEYS if values.get(k) in (None, "")]
    if missing:
        raise _owner_error(
            f"stack '{stack_name}' has no output(s) {', '.join(missing)}; it must be the stack "
            "that owns the Heroku pipeline (environment: staging), deployed with this program "
            "version — run `pulumi up` on it first"
        )
    return PipelineOwner(
        pipeline_id=str(values[OUT_PIPELINE_ID]),
        app_id=str(values[OUT_APP_ID]),
        release_id=str(values[OUT_RELEASE_ID]),
        version=str(values[OUT_VERSION]),
        source_version=str(values[OUT_SOURCE_VERSION]),
    )


def check_owner_matches(owner: PipelineOwner, image: ImageSource) -> None:
    """Production takes staging's image only when staging runs what production pins."""
    if owner.version is not None and owner.version != image.version:
        raise ConfigError(
            [
                (
                    "metabaseVersion",
                    f"production pins Metabase {image.version} but staging runs {owner.version}; "
                    f"deploy {image.version} to staging first (set metabaseVersion there and "
                    "`pulumi up -s staging`), then run production again",
                )
            ],
            pulumi.get_stack(),
        )
    if owner.source_version is not None and owner.source_version != image.source_version:
        raise ConfigError(
            [
                (
                    "metabaseVersion",
                    f"staging was built from image files '{owner.source_version}', this checkout "
                    f"has '{image.source_version}' (dashboards/Dockerfile.heroku, "
                    "heroku-entrypoint.sh or heroku.yml differ); deploy them to staging first",
                )
            ],
            pulumi.get_stack(),
        )


def _strip_slash(url: str) -> str:
    return url.rstrip("/")


# --------------------------------------------------------------------------------------------
# The component
# --------------------------------------------------------------------------------------------
class MetabaseApp(pulumi.ComponentResource):
    """Metabase on Heroku for one stack (see the module docstring)."""

    app_name: pulumi.Output[str]
    app_id: pulumi.Output[str]
    url: pulumi.Output[str]
    health_url: pulumi.Output[str]
    pipeline_id: pulumi.Output[str]
    release_id: pulumi.Output[str]
    version: pulumi.Output[str]
    source_version: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        cfg: StackConfig,
        secrets: StackSecrets,
        opts: pulumi.ResourceOptions | None = None,
        *,
        image_strategy: ImageStrategy = "promote",
        image_dir: Path = IMAGE_DIR,
    ):
        del secrets  # nothing here needs a config secret; the encryption key is generated
        if image_strategy not in ("promote", "rebuild"):
            raise ValueError(
                f"image_strategy must be 'promote' or 'rebuild', not {image_strategy!r}"
            )
        hk = cfg.heroku
        production = cfg.environment == "production"
        owns_pipeline = not (hk.pipeline_owner_stack or hk.pipeline_id)
        if production and owns_pipeline:  # StackConfig._cross already refuses this; keep it safe
            raise _owner_error("production must reference the staging stack's pipeline")

        # ---- everything that can fail, before anything is registered ----------------------
        image = prepare_image_source(cfg.metabase.version, image_dir)
        owner: PipelineOwner | None = None
        if hk.pipeline_owner_stack:
            owner = read_pipeline_owner(hk.pipeline_owner_stack)
        elif hk.pipeline_id:
            owner = PipelineOwner(pipeline_id=hk.pipeline_id)
        if production and owner is not None:
            try:
                check_owner_matches(owner, image)
            except ConfigError as mismatch:
                if not pulumi.runtime.is_dry_run():
                    raise
                # a PR that changes the image can never match staging before it merges: a
                # preview shows the plan and says why `up` would stop, `up` stops
                pulumi.log.warn(f"{mismatch} — `pulumi up` will refuse this until staging runs it")

        super().__init__("mfb:heroku:MetabaseApp", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        keep = pulumi.ResourceOptions(parent=self, protect=production)

        # ---- app, application database, secrets, config ----------------------------------
        encryption_key = random.RandomPassword(
            f"{hk.app_name}-encryption-key",
            length=64,
            special=False,
            opts=keep,  # losing it makes every saved database credential unreadable
        )
        app = heroku_app.App(
            hk.app_name,
            name=hk.app_name,
            region=hk.region,
            stack="container",
            organization=heroku_app.AppOrganizationArgs(name=hk.team),
            opts=keep,
        )
        app_db = addon.Addon(
            f"{hk.app_name}-db",
            app_id=app.id,
            plan=hk.addon_plan,
            opts=pulumi.ResourceOptions(
                parent=self, protect=production, retain_on_delete=production
            ),
        )
        url = (
            pulumi.Output.from_input(_strip_slash(cfg.metabase.url))
            if cfg.metabase.url
            else app.web_url.apply(_strip_slash)
        )
        config = heroku_app.ConfigAssociation(
            f"{hk.app_name}-config",
            app_id=app.id,
            vars={
                "MB_DB_TYPE": "postgres",
                "MB_SITE_URL": url,
                "JAVA_HEAP": f"-Xmx{java_heap_mb(hk.dyno_memory_mb)}m",
            },
            sensitive_vars={"MB_ENCRYPTION_SECRET_KEY": encryption_key.result},
            opts=child,
        )

        # ---- pipeline and coupling --------------------------------------------------------
        if owner is None:
            team_id = team.get_team_output(name=hk.team).id
            pipe = heroku_pipeline.Pipeline(
                hk.pipeline_name,
                name=hk.pipeline_name,
                owner=heroku_pipeline.PipelineOwnerArgs(id=team_id, type="team"),
                opts=pulumi.ResourceOptions(parent=self, protect=True),  # production couples in
            )
            pipeline_id: pulumi.Output[str] = pipe.id
        else:
            pipeline_id = pulumi.Output.from_input(owner.pipeline_id)
        coupling = heroku_pipeline.Coupling(
            f"{hk.app_name}-coupling",
            app_id=app.id,
            pipeline=pipeline_id,
            stage=cfg.environment,
            opts=child,
        )

        # ---- image: build (staging) or promotion (production) -----------------------------
        # The first release boots Metabase, so config and database must exist before it.
        boot_deps: list[pulumi.Resource] = [config, app_db, coupling]
        if production and image_strategy == "promote":
            assert owner is not None
            delivery: pulumi.CustomResource = PipelinePromotion(
                f"{hk.app_name}-promotion",
                pipeline_id=pipeline_id,
                source_app_id=owner.app_id,
                target_app_id=app.id,
                expected_source_release_id=owner.release_id,
                source_version=owner.source_version or image.source_version,
                opts=pulumi.ResourceOptions(parent=self, depends_on=boot_deps),
            )
            release_id = delivery.release_id
        else:
            delivery = build.Build(
                f"{hk.app_name}-build",
                app_id=app.id,
                source=build.BuildSourceArgs(path=image.path, version=image.source_version),
                opts=pulumi.ResourceOptions(parent=self, depends_on=boot_deps),
            )
            release_id = delivery.release_id

        # ---- dynos: only once a release has defined the web process -----------------------
        formation.Formation(
            f"{hk.app_name}-web",
            app_id=app.id,
            type="web",
            size=hk.dyno_size,
            quantity=hk.dyno_quantity,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[delivery]),
        )

        self.app_name = app.name
        self.app_id = app.id
        self.url = url
        self.health_url = url.apply(lambda u: f"{u}/api/health")
        self.pipeline_id = pipeline_id
        self.release_id = release_id
        self.version = pulumi.Output.from_input(cfg.metabase.version)
        self.source_version = pulumi.Output.from_input(image.source_version)
        self.register_outputs(
            {
                "app_name": self.app_name,
                "app_id": self.app_id,
                "url": self.url,
                "health_url": self.health_url,
                "pipeline_id": self.pipeline_id,
                "release_id": self.release_id,
                "version": self.version,
                "source_version": self.source_version,
            }
        )

    def stack_outputs(self) -> dict[str, pulumi.Output[Any]]:
        """Stack outputs to export; the production stack reads STAGING_REFERENCE_KEYS of them."""
        return {
            "metabaseAppName": self.app_name,
            "metabaseUrl": self.url,
            "metabaseHealthUrl": self.health_url,
            OUT_PIPELINE_ID: self.pipeline_id,
            OUT_APP_ID: self.app_id,
            OUT_RELEASE_ID: self.release_id,
            OUT_VERSION: self.version,
            OUT_SOURCE_VERSION: self.source_version,
        }
