"""Issue 21's reproductions, tried as each role would on a real redis-server with the real
ACL users of `chaosbus control acl`: the kill switch cannot be jammed, the audit log cannot
be wiped or rewritten, a release or a sign-off never lands without its audit entry, and one
approver does not cover every area (docs/decisions/0300)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis.asyncio as aioredis
from redis.exceptions import NoPermissionError, RedisError

from chaosbus.control import operations
from chaosbus.control.acl import AclUser
from chaosbus.control.approvals import approval_state, approve, content_sha256
from chaosbus.control.errors import ApprovalsMissing, KillSwitchEngaged
from chaosbus.control.plane import control_plane
from chaosbus.errors import InvalidInput
from chaosbus.runner.preflight import refuse_if_killed
from tests.integration.acl_redis import AclRedis, acl_redis

pytestmark = pytest.mark.integration

MAX_ID = "18446744073709551615-18446744073709551615"


@pytest.fixture(scope="module")
def roles(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AclRedis]:
    with acl_redis(tmp_path_factory.mktemp("acl21")) as node:
        yield node


async def raw(url: str, *command: str) -> object:
    client = aioredis.from_url(url, decode_responses=True)
    try:
        return await client.execute_command(*command)  # type: ignore[no-untyped-call]
    finally:
        await client.aclose()


async def refused(url: str, *command: str) -> bool:
    """True when Redis refuses the command for this user (NOPERM)."""
    try:
        await raw(url, *command)
    except NoPermissionError:
        return True
    return False


async def engaged(node: AclRedis) -> bool:
    async with control_plane(node.url("reader")) as plane:
        try:
            await refuse_if_killed(plane)
        except KillSwitchEngaged:
            return True
        return False


async def released(node: AclRedis) -> None:
    await operations.init(node.url("admin"), None)
    await operations.unkill(node.url("admin"), None)
    assert not await engaged(node)


class TestKillSwitchCannotBeJammed:
    """Reproduction 1."""

    async def test_an_operator_cannot_write_around_the_kill_function(self, roles: AclRedis) -> None:
        """The stream-id jam, a forged count or a release are refused to an operator; the
        one raw write it holds on the switch (INCR) can only engage it."""
        await released(roles)
        op = roles.url("operator")
        for command in (
            ("XADD", "chaosbus:kills", MAX_ID, "a", "b"),
            ("SET", "chaosbus:kills", "0"),
            ("INCRBY", "chaosbus:kills", "-1"),
            ("DEL", "chaosbus:kills"),
            ("SET", "chaosbus:kill", "released"),
            ("FUNCTION", "DELETE", "chaosbus_v1"),
        ):
            assert await refused(op, *command), command
        assert await raw(op, "INCR", "chaosbus:kills")
        assert await engaged(roles)

    async def test_kill_after_routine_unkill_engages(self, roles: AclRedis) -> None:
        """Kill, unkill, kill: each kill engages and preflight refuses (before: exit 2 and
        runs passed)."""
        await released(roles)
        for _ in range(2):
            await operations.kill(roles.url("operator"), None, "drill")
            assert await engaged(roles)
            assert await operations.unkill(roles.url("admin"), None)
            assert not await engaged(roles)
        await operations.kill(roles.url("operator"), None, "again")
        assert await engaged(roles)

    async def test_a_deleted_count_still_engages(self, roles: AclRedis) -> None:
        """An admin deleting the kill count leaves the switch engaged (fewer kills than the
        release covers), and a kill after it engages too (before: released, fail-open)."""
        await released(roles)
        await operations.kill(roles.url("operator"), None, "one")
        await operations.unkill(roles.url("admin"), None)
        await raw(roles.url("admin"), "DEL", "chaosbus:kills")
        assert await engaged(roles)
        await operations.kill(roles.url("operator"), None, "after the delete")
        assert await engaged(roles)
        assert await operations.unkill(roles.url("admin"), None)
        assert not await engaged(roles)

    async def test_a_kill_that_cannot_be_recorded_still_engages(self, roles: AclRedis) -> None:
        """With the audit sequence broken, `kill` fails loudly and the switch is engaged."""
        await released(roles)
        seq = await raw(roles.url("admin"), "GET", "chaosbus:audit:seq")
        await raw(roles.url("admin"), "SET", "chaosbus:audit:seq", "not-a-number")
        try:
            with pytest.raises(InvalidInput, match=r"engaged .* but not recorded"):
                await operations.kill(roles.url("operator"), None, "unrecordable")
            assert await engaged(roles)
        finally:
            await raw(roles.url("admin"), "SET", "chaosbus:audit:seq", str(seq))
        await operations.unkill(roles.url("admin"), None)


class TestAuditOnlyTheServerWrites:
    """Reproduction 3."""

    async def test_no_role_but_admin_can_remove_or_replace_entries(self, roles: AclRedis) -> None:
        """SET over the log, MAXLEN 0, trims, pops, deletes and a reset sequence are all
        refused to the approver and the operator."""
        await released(roles)
        for user in ("approver", "operator"):
            url = roles.url(user)
            mine = f"chaosbus:audit:by:{user}"
            for command in (
                ("SET", "chaosbus:audit", "x", "PX", "1"),
                ("XADD", "chaosbus:audit", "MAXLEN", "0", "*", "a", "b"),
                ("SET", "chaosbus:audit:seq", "0"),
                ("DEL", mine),
                ("LTRIM", mine, "1", "0"),
                ("LPOP", mine),
                ("LSET", mine, "0", "x"),
                ("RPUSH", "chaosbus:audit:by:admin", "{}"),
                ("RENAME", mine, "chaosbus:elsewhere"),
            ):
                assert await refused(url, *command), (user, command)
        assert (await operations.verify_audit(roles.url("reader"))).intact

    async def test_a_forged_entry_is_named_and_stays_its_writers(self, roles: AclRedis) -> None:
        """An operator's hand-made entry claiming to be the admin's unkill sits in the
        operator's own list: read as the operator's, and `--verify` names it."""
        await released(roles)
        op = roles.url("operator")
        mine = "chaosbus:audit:by:operator"
        seq = await raw(op, "INCR", "chaosbus:audit:seq")
        forged = f'{{"seq":"{seq}","prev":"x","actor":"admin","action":"unkill","at_ms":"1"}}'
        await raw(op, "RPUSH", mine, forged)
        entries = await operations.audit_log(roles.url("reader"), 1)
        assert (entries[-1].action, entries[-1].actor) == ("unkill", "operator")
        problems = (await operations.verify_audit(roles.url("reader"))).problems
        assert f"entry {seq} by operator: claims to be by admin" in problems
        assert f"entry {seq} by operator: does not follow operator's entry before it" in problems
        await raw(roles.url("admin"), "LREM", mine, "1", forged)  # for the tests after


class TestNothingLandsWithoutItsEntry:
    """Reproduction 4."""

    async def test_an_unkill_whose_entry_fails_releases_nothing(self, roles: AclRedis) -> None:
        """The admin's audit list made unwritable: `unkill` fails and the switch stays
        engaged (before: exit 2, released, no entry)."""
        await released(roles)
        await operations.kill(roles.url("operator"), None, "drill")
        admin = roles.url("admin")
        await raw(admin, "RENAME", "chaosbus:audit:by:admin", "chaosbus:kept")
        await raw(admin, "SET", "chaosbus:audit:by:admin", "not a list")
        try:
            with pytest.raises(InvalidInput, match="not a list"):
                await operations.unkill(admin, None)
            assert await engaged(roles)
        finally:
            await raw(admin, "RENAME", "chaosbus:kept", "chaosbus:audit:by:admin")
        assert await operations.unkill(admin, None)

    async def test_a_signoff_whose_entry_fails_does_not_count(self, roles: AclRedis) -> None:
        """The approver's audit list made unwritable: `approve` fails and writes nothing
        (before: exit 2, the sign-off counted)."""
        sha = content_sha256(uuid.uuid4().bytes)
        admin = roles.url("admin")
        async with control_plane(roles.url("approver")) as plane:  # its list exists
            await approve(plane, "business", content_sha256(b"earlier"), "exp", None, 0)
        await raw(admin, "RENAME", "chaosbus:audit:by:approver", "chaosbus:kept2")
        await raw(admin, "SET", "chaosbus:audit:by:approver", "not a list")
        try:
            async with control_plane(roles.url("approver")) as plane:
                with pytest.raises(InvalidInput, match="not a list"):
                    await approve(plane, "business", sha, "exp", None, 0)
        finally:
            await raw(admin, "DEL", "chaosbus:audit:by:approver")
            await raw(admin, "RENAME", "chaosbus:kept2", "chaosbus:audit:by:approver")
        assert await raw(admin, "KEYS", f"chaosbus:approval:*:{sha}:*") == []

    async def test_a_raw_signoff_does_not_count(self, roles: AclRedis) -> None:
        """`SET chaosbus:approval:<area>:<sha>:approver` by the approver, around the
        function, is no sign-off (before: it counted, with no audit entry)."""
        sha = content_sha256(uuid.uuid4().bytes)
        key = f"chaosbus:approval:business:{sha}:approver"
        value = '{"area":"business","at_ms":1,"expires_ms":99999999999999,"targets":"","seq":"1"}'
        await raw(roles.url("approver"), "SET", key, value)
        async with control_plane(roles.url("reader")) as plane:
            state = await approval_state(plane, sha, ("business",))
        assert state.missing == ("business",)
        with pytest.raises(ApprovalsMissing, match="sign-off by approver has no audit entry"):
            state.refuse_if_missing("exp.yaml")


class TestOneApproverIsNotEveryArea:
    """Reproduction 5."""

    async def test_one_user_cannot_satisfy_two_areas(self, roles: AclRedis) -> None:
        """An approver with no areas assigned signs business and security: the run is still
        refused, naming why (before: accepted)."""
        admin = roles.url("admin")
        await operations.apply_acl(admin, [AclUser("everyone", "approver")], "chaosbus")
        await raw(admin, "ACL", "SETUSER", "everyone", ">pw-everyone")
        url = roles.url("everyone")
        sha = content_sha256(uuid.uuid4().bytes)
        async with control_plane(url) as plane:
            await approve(plane, "business", sha, "exp", None, 0)
            await approve(plane, "security", sha, "exp", None, 0)
        async with control_plane(roles.url("reader")) as plane:
            state = await approval_state(plane, sha, ("business", "security"))
            lenient = await approval_state(plane, sha, ("business", "security"), distinct=False)
        assert lenient.missing == ()
        with pytest.raises(ApprovalsMissing, match="need a different approver each"):
            state.refuse_if_missing("exp.yaml")

    async def test_apply_turns_the_default_user_off(self, roles: AclRedis) -> None:
        """`control acl --apply` as an admin turns `default` off and says so."""
        admin = roles.url("admin")
        await raw(admin, "ACL", "SETUSER", "default", "on", "nopass", "+@all", "~*", "&*")
        anonymous = admin.replace("admin:pw-admin@", "")
        assert await raw(anonymous, "PING")
        done = await operations.apply_acl(admin, [], "chaosbus")
        assert done.default_off
        with pytest.raises(RedisError):
            await raw(anonymous, "PING")
