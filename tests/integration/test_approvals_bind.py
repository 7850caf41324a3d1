"""Issue 21, reproductions 2 and 5, as the real roles on a real redis-server: a sign-off
covers the file's bytes *and* the run's targets, expires, needs a different approver per
area, and a namespace that requires approvals applies it to every run and to ad-hoc faults
(docs/decisions/0300). `run --dry-run` stops after preflight, where approvals are judged."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaosbus.control import operations
from chaosbus.control.acl import AclUser
from chaosbus.control.approvals import approval_state, approve, content_sha256
from chaosbus.control.plane import control_plane
from tests.cli_runner import Outcome, chaosbus
from tests.integration.acl_redis import AclRedis, acl_redis

pytestmark = pytest.mark.integration

BOOTSTRAP = "127.0.0.1:1"  # never dialled: the HTTP-only file has no topic route


@pytest.fixture(scope="module")
def roles(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AclRedis]:
    with acl_redis(tmp_path_factory.mktemp("acl21b")) as node:

        async def setup() -> None:
            admin = node.url("admin")
            await operations.apply_acl(
                admin, [AclUser("sec", "approver", ("security",))], "chaosbus"
            )
            await operations.init(admin, None)

        asyncio.run(setup())
        asyncio.run(raw_setpass(node.url("admin"), "sec"))
        yield node


async def raw_setpass(admin: str, user: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.from_url(admin)
    try:
        await client.execute_command("ACL", "SETUSER", user, f">pw-{user}")  # type: ignore[no-untyped-call]
    finally:
        await client.aclose()


def approved_file(tmp_path: Path, block: str = "approvals: {required: [business]}") -> Path:
    text = chaosbus("scenarios", "show", "flaky-api").stdout
    path = tmp_path / f"api-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(f"{text}\n{block}\n")
    return path


def dry_run(node: AclRedis, path: Path, *flags: str) -> Outcome:
    return chaosbus(
        "run",
        str(path),
        "--dry-run",
        "--redis",
        node.url("operator"),
        "--bootstrap",
        BOOTSTRAP,
        *flags,
    )


def sign(node: AclRedis, path: Path, area: str, user: str, *flags: str) -> Outcome:
    done = chaosbus(
        "approve",
        str(path),
        "--role",
        area,
        "--no-plan",
        "--redis",
        node.url(user),
        "--bootstrap",
        BOOTSTRAP,
        *flags,
    )
    assert done.code == 0, done.stderr
    return done


class TestTargetsAreApproved:
    def test_an_approved_file_pointed_elsewhere_is_refused(
        self, roles: AclRedis, tmp_path: Path
    ) -> None:
        """Signed for its own upstream and bootstrap: the same run passes; another
        `--http-upstream` or `--bootstrap` is refused, naming the difference (before: it
        sent requests to the unapproved upstream)."""
        path = approved_file(tmp_path)
        sign(roles, path, "business", "approver")
        assert dry_run(roles, path).code == 0
        elsewhere = dry_run(roles, path, "--http-upstream", "http://127.0.0.1:9999")
        assert elsewhere.code == 2
        assert elsewhere.last_error_line.endswith(
            "the business sign-off by approver is for other targets: this run's http "
            "upstreams pricing -> http://127.0.0.1:9999 (approved: pricing -> "
            "http://127.0.0.1:9300)"
        )
        other_broker = chaosbus(
            "run",
            str(path),
            "--dry-run",
            "--redis",
            roles.url("operator"),
            "--bootstrap",
            "127.0.0.1:2",
        )
        assert other_broker.code == 2
        assert "this run's bootstrap 127.0.0.1:2 (approved: 127.0.0.1:1)" in (
            other_broker.last_error_line
        )

    def test_the_sign_off_binds_the_flags_it_was_given(
        self, roles: AclRedis, tmp_path: Path
    ) -> None:
        """An approver who signs for `--http-upstream X` approves runs against X only."""
        path = approved_file(tmp_path)
        sign(roles, path, "business", "approver", "--http-upstream", "http://127.0.0.1:9999")
        assert dry_run(roles, path).code == 2
        assert dry_run(roles, path, "--http-upstream", "http://127.0.0.1:9999").code == 0


class TestEveryRunUnderAPolicy:
    def test_a_file_without_approvals_and_ad_hoc_faults_are_refused(
        self, roles: AclRedis, tmp_path: Path
    ) -> None:
        """With `control require-approvals business`, a file with no `approvals:` needs it,
        and `http --fault` is refused (before: neither asked)."""
        admin = roles.url("admin")
        assert chaosbus("control", "require-approvals", "business", "--redis", admin).code == 0
        try:
            path = approved_file(tmp_path, block="")
            refused = dry_run(roles, path)
            assert refused.code == 2
            assert "lacks sign-off by business" in refused.last_error_line
            sign(roles, path, "business", "approver")
            assert dry_run(roles, path).code == 0
            faults = tmp_path / "faults.yaml"
            fault = "{type: error, probability: 1.0, status: 503}"
            faults.write_text(f"seed: 1\nfaults:\n  - {fault}\n")
            http = chaosbus(
                "http",
                "--listen",
                "127.0.0.1:0",
                "--upstream",
                "http://127.0.0.1:9",
                "--fault",
                str(faults),
                "--redis",
                roles.url("operator"),
            )
            assert http.code == 2
            assert http.last_error_line.endswith(
                "http refused: namespace 'chaosbus' requires sign-off by business for every "
                "fault; run an approved experiment (`chaosbus run`)"
            )
        finally:
            assert chaosbus("control", "require-approvals", "", "--redis", admin).code == 0
        assert dry_run(roles, approved_file(tmp_path, block="")).code == 0


class TestSignOffsExpireAndAreDistinct:
    async def test_a_sign_off_expires(self, roles: AclRedis) -> None:
        """A sign-off given for 1 s no longer counts after it (before: never expired)."""
        sha = content_sha256(uuid.uuid4().bytes)
        async with control_plane(roles.url("approver")) as plane:
            await approve(plane, "business", sha, "exp", None, 0, valid_for_ms=1000)
        async with control_plane(roles.url("reader")) as plane:
            assert (await approval_state(plane, sha, ("business",))).missing == ()
            await asyncio.sleep(1.2)  # the server's clock decides when it lapses
            assert (await approval_state(plane, sha, ("business",))).missing == ("business",)

    def test_two_areas_by_two_users(self, roles: AclRedis, tmp_path: Path) -> None:
        """Business by `approver`, security by `sec`: the run passes preflight."""
        path = approved_file(tmp_path, block="approvals: {required: [business, security]}")
        sign(roles, path, "business", "approver")
        half = dry_run(roles, path)
        assert (half.code, "lacks sign-off by security" in half.last_error_line) == (2, True)
        sign(roles, path, "security", "sec")
        assert dry_run(roles, path).code == 0
