"""The control plane on a real Redis: it fails closed, its audit log shows tampering, roles
are enforced by Redis ACL users, and approvals bind to the file's content."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from chaosbus.control import operations
from chaosbus.control.approvals import approval_state, approve, content_sha256
from chaosbus.control.audit import new_entry
from chaosbus.control.errors import ApprovalsMissing, NotPermitted
from chaosbus.control.keys import Keys
from chaosbus.control.plane import control_plane
from chaosbus.control.scopes import Scope
from chaosbus.control.watch import ControlState, KillSwitchWatcher
from chaosbus.errors import Aborted
from chaosbus.runner.run import ExperimentRun
from tests.cli_runner import chaosbus
from tests.integration import databases
from tests.integration.acl_redis import AclRedis, acl_redis
from tests.integration.databases import database
from tests.integration.runner_support import make_stage

pytestmark = pytest.mark.integration


def fresh() -> str:
    return f"chaosbus-test-{uuid.uuid4().hex[:8]}"


class Changes:
    """Records what a watcher told its host, and lets a test await a given state."""

    def __init__(self) -> None:
        self.seen: list[tuple[ControlState, str]] = []
        self._changed = asyncio.Condition()

    async def __call__(self, state: ControlState, detail: str) -> None:
        async with self._changed:
            self.seen.append((state, detail))
            self._changed.notify_all()

    async def until(self, state: ControlState) -> str:
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: bool(self.seen) and self.seen[-1][0] == state), 5
            )
            return self.seen[-1][1]


async def raw(redis_url: str, *command: str) -> object:
    client = aioredis.from_url(redis_url, decode_responses=True)
    try:
        return await client.execute_command(*command)  # type: ignore[no-untyped-call]
    finally:
        await client.aclose()


class TestFailClosed:
    async def test_any_other_value_is_engaged_and_the_watcher_survives(
        self, redis_url: str
    ) -> None:
        """`SET <ns>:kill 1` engages (no crash); an admin's unkill then releases it."""
        ns = fresh()
        await operations.init(redis_url, "test", namespace=ns)
        changes = Changes()
        async with KillSwitchWatcher(redis_url, changes, keys=Keys(ns), poll_s=0.05) as watcher:
            assert watcher.allows_injection
            await raw(redis_url, "SET", f"{ns}:kill", "1")
            detail = await changes.until("killed")
            assert detail == "kill switch engaged: its key holds an unexpected value"
            assert not watcher.allows_injection
            await operations.unkill(redis_url, "test", namespace=ns)
            await changes.until("clear")
            await raw(redis_url, "DEL", f"{ns}:kill")
            assert "not released" in await changes.until("killed")
        assert [s for s, _ in changes.seen] == ["clear", "killed", "clear", "killed"]

    async def test_a_fresh_namespace_is_engaged_until_init(self, redis_url: str) -> None:
        """No key at all is engaged; `control init` releases once, and never again."""
        ns = fresh()
        async with control_plane(redis_url, ns) as plane:
            assert (await plane.switch()).engaged
            assert await plane.initialise("test", 1)
            assert not (await plane.switch()).engaged
            await plane.engage("test", "drill", 2)
            assert not await plane.initialise("test", 3)  # init cannot release a kill
            assert (await plane.switch()).engaged

    async def test_a_dead_watcher_stops_injection(self, redis_url: str) -> None:
        """Should the watcher's task end, the host is told `killed` and injection stays off."""
        ns = fresh()
        await operations.init(redis_url, "test", namespace=ns)
        changes = Changes()
        async with KillSwitchWatcher(redis_url, changes, keys=Keys(ns), poll_s=0.05) as watcher:
            assert watcher.allows_injection
            task = watcher._task
            assert task is not None
            # The client library may absorb one cancellation mid-read; cancel until it ends.
            while not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=0.2)
            assert "watcher stopped" in await changes.until("killed")
            assert not watcher.allows_injection

    async def test_preflight_refuses_an_unparsable_switch(
        self, bootstrap: str, redis_url: str, topic_name: str
    ) -> None:
        """A run on a garbled switch is refused (exit 3) and the refusal audited."""
        stage = await make_stage(bootstrap, redis_url, topic_name)
        await raw(redis_url, "SET", f"{stage.namespace}:kill", "1")
        with pytest.raises(Aborted, match="its key holds an unexpected value"):
            await ExperimentRun(stage.spec("duplicate-storm"), stage.options()).run()
        entries = await operations.audit_log(redis_url, 10, namespace=stage.namespace)
        assert [e.action for e in entries] == ["init", "refused"]

    def test_unreachable_at_start_refuses(self, tmp_path: Path) -> None:
        """No Redis at start: `chaosbus run` exits 2 with one line naming the address."""
        from chaosbus.testing import free_port_pair

        port = free_port_pair()
        outcome = chaosbus(
            "run",
            "duplicate-storm",
            "--redis",
            f"redis://127.0.0.1:{port}/0",
            "--bootstrap",
            "127.0.0.1:1",
        )
        assert outcome.code == 2
        assert f"chaosbus: Redis at redis://127.0.0.1:{port}/0 does not answer" in (
            outcome.last_error_line
        )


class TestAuditChain:
    async def test_concurrent_writers_keep_one_chain(self, redis_url: str) -> None:
        """Twenty concurrent appends make one intact chain of twenty."""
        ns = fresh()
        async with control_plane(redis_url, ns) as plane:
            await asyncio.gather(*(plane.audit(new_entry("start", "t", i)) for i in range(20)))
            result = await plane.verify_audit()
        assert (result.intact, result.held, result.added) == (True, 20, 20)

    async def test_removed_and_edited_entries_are_named(self, redis_url: str) -> None:
        """An admin's LPOP, LREM and LSET on a user's list each show up with positions."""
        ns = fresh()
        async with control_plane(redis_url, ns) as plane:
            for i in range(6):
                await plane.audit(new_entry("start", "t", i, detail=f"n{i}"))
            key = plane.keys.audit_of(plane.user)
            rows = await plane.client.lrange(key, 0, -1)
            await raw(redis_url, "LPOP", key)
            await raw(redis_url, "LREM", key, "1", rows[3])
            await raw(redis_url, "LSET", key, "3", rows[5].replace("n5", "forged"))
            tampered = await plane.verify_audit()
        assert tampered.problems == (
            "entry 2 by default: does not follow default's entry before it",
            "entry 5 by default: does not follow default's entry before it",
            "entry 1 missing (removed, or never written)",
            "entry 4 missing (removed, or never written)",
        )

    def test_verify_command_exit_codes(self, redis_url: str) -> None:
        """`chaosbus audit --verify` exits 0 intact, 1 tampered, naming the entry."""
        db = database(redis_url, databases.CONTROL_PLANE)
        asyncio.run(raw(db, "FLUSHDB"))
        assert chaosbus("control", "init", "--redis", db).code == 0
        assert chaosbus("kill", "--redis", db, "--reason", "drill").code == 0
        intact = chaosbus("audit", "--verify", "--redis", db)
        assert (intact.code, intact.stdout.splitlines()[0][:46]) == (
            0,
            "audit log intact: 2 entries held of 2 appended",
        )
        asyncio.run(raw(db, "LPOP", "chaosbus:audit:by:default"))
        tampered = chaosbus("audit", "--verify", "--redis", db)
        assert tampered.code == 1
        assert tampered.stdout.splitlines()[0] == (
            "audit log tampered: entry 2 by default: does not follow default's entry before it"
        )


@pytest.fixture(scope="module")
def roles(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AclRedis]:
    with acl_redis(tmp_path_factory.mktemp("acl")) as node:
        yield node


class TestRoles:
    async def test_operator_kills_only_admin_releases(self, roles: AclRedis) -> None:
        """An operator engages; its release is refused by Redis; the admin's goes through."""
        await operations.init(roles.url("admin"), None)
        await operations.kill(roles.url("operator"), None, "drill")
        with pytest.raises(NotPermitted, match="'operator' may not release the kill switch"):
            await operations.unkill(roles.url("operator"), None)
        async with control_plane(roles.url("reader")) as plane:
            assert (await plane.switch()).detail == "kill switch engaged by operator: drill"
        assert await operations.unkill(roles.url("admin"), None)
        entries = await operations.audit_log(roles.url("reader"), 50)
        assert [(e.action, e.actor) for e in entries][-2:] == [
            ("kill", "operator"),
            ("unkill", "admin"),
        ]
        assert (await operations.verify_audit(roles.url("reader"))).intact

    async def test_reader_may_neither_kill_nor_write(self, roles: AclRedis) -> None:
        """A reader reads the log; engaging or appending is refused."""
        with pytest.raises(NotPermitted, match="'reader' may not engage the kill switch"):
            await operations.kill(roles.url("reader"), None, "x")
        async with control_plane(roles.url("reader")) as plane:
            with pytest.raises(NotPermitted):
                await plane.audit(new_entry("start", "x", 1))

    async def test_operator_pauses_a_reader_sees_it_but_may_not(self, roles: AclRedis) -> None:
        """An operator pauses and resumes a fault (audited as itself); a reader reads the
        pauses, as every watcher does, and its own pause is refused by Redis."""
        await operations.init(roles.url("admin"), None)
        fault = Scope("fault", "retries")
        assert await operations.pause(roles.url("operator"), fault, None, "drill")
        assert (await operations.pauses(roles.url("reader"))).fields == {"fault:retries"}
        with pytest.raises(NotPermitted, match="'reader' may not pause fault retries"):
            await operations.pause(roles.url("reader"), fault, None, None)
        assert await operations.resume(roles.url("operator"), fault, None)
        assert (await operations.pauses(roles.url("reader"))).fields == frozenset()
        entries = await operations.audit_log(roles.url("reader"), 50)
        assert [(e.action, e.actor, e.detail) for e in entries][-2:] == [
            ("pause", "operator", "fault:retries: drill"),
            ("resume", "operator", "fault:retries"),
        ]

    async def test_approver_signs_only_its_areas_as_itself(self, roles: AclRedis) -> None:
        """The approver may sign `business` (recorded as itself), not `security`."""
        sha = content_sha256(b"experiment")
        async with control_plane(roles.url("approver")) as plane:
            done = await approve(plane, "business", sha, "exp", "claims-to-be-ceo", 1)
            assert done.user == "approver"
            with pytest.raises(NotPermitted, match="may not sign off for 'security'"):
                await approve(plane, "security", sha, "exp", None, 2)
        async with control_plane(roles.url("reader")) as plane:
            state = await approval_state(plane, sha, ("business", "security"))
        assert [(s.area, s.user) for s in state.signoffs] == [("business", "approver")]
        assert state.missing == ("security",)


class TestAclApply:
    async def test_applied_rules_make_a_working_operator(self, roles: AclRedis) -> None:
        """`control acl --apply` (as admin) creates a user that may kill and not release."""
        from chaosbus.control.acl import AclUser
        from chaosbus.control.operations import apply_acl

        done = await apply_acl(roles.url("admin"), [AclUser("ops2", "operator")], "chaosbus")
        assert (done.users, done.default_off) == (1, True)
        await raw(roles.url("admin"), "ACL", "SETUSER", "ops2", ">pw-ops2")
        await operations.init(roles.url("admin"), None)
        assert (await operations.kill(roles.url("ops2"), None, "applied")).actor == "ops2"
        with pytest.raises(NotPermitted):
            await operations.unkill(roles.url("ops2"), None)
        assert await operations.unkill(roles.url("admin"), None)


class TestRolesOnARun:
    async def test_a_reader_cannot_start_a_run(
        self, bootstrap: str, roles: AclRedis, topic_name: str
    ) -> None:
        """A run whose start entry Redis refuses does not start: nothing injected."""
        stage = await make_stage(bootstrap, roles.url("admin"), topic_name)
        await operations.init(roles.url("admin"), None)
        await operations.unkill(roles.url("admin"), None)  # whatever an earlier test left
        # The roles' rules cover the `chaosbus` namespace.
        options = stage.options()
        options.redis_url, options.control_namespace = roles.url("reader"), "chaosbus"
        run = ExperimentRun(stage.spec("duplicate-storm"), options)
        with pytest.raises(NotPermitted, match="run refused: audit entry 'start' not written"):
            await run.run()
        assert run._live is None  # the live parts (and so the interposer) never began
        entries = await operations.audit_log(roles.url("reader"), 50)
        assert entries[-1].action == "unkill"
        assert "start" not in {e.action for e in entries}

    async def test_an_operator_watcher_sees_kill_and_release(self, roles: AclRedis) -> None:
        """The operator's rules let its watcher read the switch and hear the channel."""
        await operations.init(roles.url("admin"), None)
        await operations.unkill(roles.url("admin"), None)  # whatever an earlier test left
        changes = Changes()
        async with KillSwitchWatcher(roles.url("operator"), changes, poll_s=0.05):
            await operations.kill(roles.url("operator"), None, "drill")
            assert await changes.until("killed") == "kill switch engaged by operator: drill"
            await operations.unkill(roles.url("admin"), None)
            assert await changes.until("clear") == "kill switch released by admin"


class TestApprovals:
    def test_run_refused_until_signed_and_editing_voids(
        self, redis_url: str, tmp_path: Path
    ) -> None:
        """Missing sign-offs refuse the run (exit 2, named); an edit voids earlier ones."""
        db = database(redis_url, databases.CONTROL_PLANE_APPROVALS)
        asyncio.run(raw(db, "FLUSHDB"))
        assert chaosbus("control", "init", "--redis", db).code == 0
        text = chaosbus("scenarios", "show", "duplicate-storm").stdout
        path = tmp_path / "storm.yaml"
        # One user (default) signs both areas here: allowed only when the file says so.
        path.write_text(
            text + "approvals: {required: [business, security], distinct_users: false}\n"
        )
        refused = chaosbus("run", str(path), "--redis", db, "--bootstrap", "127.0.0.1:1")
        assert refused.code == 2
        assert "lacks sign-off by business, security" in refused.last_error_line
        assert chaosbus("approve", str(path), "--role", "business", "--redis", db).code == 0
        half = chaosbus("approvals", str(path), "--redis", db)
        assert half.code == 1
        assert half.stdout.splitlines()[2] == "security   MISSING"
        assert chaosbus("approve", str(path), "--role", "security", "--redis", db).code == 0
        assert chaosbus("approvals", str(path), "--redis", db).code == 0
        path.write_text(path.read_text().replace("seed: ", "seed: 1"))
        voided = chaosbus("approvals", str(path), "--redis", db)
        assert voided.code == 1
        assert voided.stdout.splitlines()[1:] == ["business   MISSING", "security   MISSING"]

    async def test_run_without_content_is_refused(
        self, bootstrap: str, redis_url: str, topic_name: str
    ) -> None:
        """A spec with approvals but no content hash is refused, naming why."""
        stage = await make_stage(bootstrap, redis_url, topic_name)
        spec = stage.spec("duplicate-storm").model_copy(
            update={"approvals": {"required": ("business",)}}
        )
        from chaosbus.experiment.governance import Approvals

        spec = spec.model_copy(update={"approvals": Approvals(required=("business",))})
        with pytest.raises(ApprovalsMissing, match="content is unknown"):
            await ExperimentRun(spec, stage.options()).run()
