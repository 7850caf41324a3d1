"""The control plane's pure governance parts: the switch's meaning, the audit chain, ACL rules,
approval state."""

from __future__ import annotations

import json

import pytest

from chaosbus.control.acl import AclUser, aclfile_lines, rules, setuser_commands
from chaosbus.control.approvals import ApprovalState, Signoff, parse_key
from chaosbus.control.chain import GENESIS, link, verify
from chaosbus.control.errors import ApprovalsMissing
from chaosbus.control.keys import Keys, KillState, kill_count, released_value, switch_state


class TestSwitchState:
    def test_only_a_released_marker_releases(self) -> None:
        """Absent, `1`, broken JSON or a wrong state all mean engaged (fail closed)."""
        for raw in (
            None,
            "1",
            "{",
            '{"state": "engaged", "actor": "a", "at_ms": 1, "covers": "0"}',
        ):
            assert switch_state(raw, 0, None).engaged, raw
        assert not switch_state(released_value("admin", 1, "0"), 0, None).engaged

    def test_a_kill_since_the_release_engages(self) -> None:
        """A release covers a count of kills; one more engages again."""
        value = released_value("admin", 1, "5")
        kill = KillState(actor="ops", reason="drill", at_ms=2)
        assert not switch_state(value, 5, kill).engaged
        later = switch_state(value, 6, kill)
        assert (later.engaged, later.detail) == (True, "kill switch engaged by ops: drill")

    def test_a_count_below_the_release_engages(self) -> None:
        """A deleted or reset count is not a release (the issue's fail-open after a delete)."""
        state = switch_state(released_value("admin", 1, "5"), 0, None)
        assert state.engaged
        assert "0 kills counted, the release covers 5" in state.detail

    def test_a_count_that_is_not_one_engages(self) -> None:
        """`<ns>:kills` of another type (an old stream) or text reads engaged."""
        for raw in ("\x00wrong type", "x", "-1", "1.5"):
            assert kill_count(raw) is None
            assert switch_state(released_value("admin", 1, "0"), kill_count(raw), None).engaged
        assert kill_count(None) == 0

    def test_first_use_names_init(self) -> None:
        """A namespace never set up says how to set it up."""
        assert "chaosbus control init" in switch_state(None, 0, None).detail

    def test_approval_keys_carry_the_user(self) -> None:
        """A sign-off's key ends with the user, so ACL key patterns bind it."""
        key = Keys("ns").approval("business", "ab" * 32, "approver-1")
        assert key == f"ns:approval:business:{'ab' * 32}:approver-1"
        assert parse_key(key, "ns") == ("business", "ab" * 32, "approver-1")
        assert parse_key("ns:approval:x:y:z:w", "ns") is None


def entries(owner: str, seqs: list[int]) -> list[str]:
    """A user's list as the server writes it (`chaosbus_v1.lua`)."""
    out: list[str] = []
    prev = GENESIS
    for seq in seqs:
        element = json.dumps({"seq": str(seq), "prev": prev, "actor": owner, "action": "start"})
        out.append(element)
        prev = link(element)
    return out


class TestAuditChain:
    def test_intact(self) -> None:
        """Two users' lists that interleave one sequence verify, with the newest's link."""
        lists = {"ops": entries("ops", [1, 3]), "al": entries("al", [2, 4])}
        result = verify(lists, 4)
        assert (result.intact, result.held, result.head) == (True, 4, link(lists["al"][1]))

    def test_removed_entries_leave_a_gap(self) -> None:
        """A removed entry (admins only) breaks the link after it and leaves a gap."""
        lists = {"ops": entries("ops", [1, 2, 3])}
        del lists["ops"][1]
        assert verify(lists, 3).problems == (
            "entry 3 by ops: does not follow ops's entry before it",
            "entry 2 missing (removed, or never written)",
        )

    def test_removed_tail(self) -> None:
        """The last entries gone: the sequence still counts them."""
        assert verify({"ops": entries("ops", [1, 2, 3])[:1]}, 3).problems == (
            "entries 2-3 missing (removed, or never written)",
        )

    def test_edited(self) -> None:
        """A changed element no longer links to the next one."""
        lists = {"ops": entries("ops", [1, 2])}
        lists["ops"][0] = lists["ops"][0].replace("start", "stop")
        assert verify(lists, 2).problems == (
            "entry 2 by ops: does not follow ops's entry before it",
        )

    def test_entries_written_around_the_functions(self) -> None:
        """A repeated or out-of-sequence entry, another's name, or junk, are each named."""
        ops = entries("ops", [1])
        junk = json.dumps({"seq": "1", "prev": link(ops[0]), "actor": "admin"})
        lists = {"ops": [*ops, junk, "junk"]}
        assert verify(lists, 1).problems == (
            "entry 1 by ops: claims to be by admin",
            "entry 1 by ops: repeated",
            "ops's entry #3: not an entry (written around chaosbus)",
        )
        beyond = {"ops": entries("ops", [1, 9])}
        assert "entry 9 by ops: outside the sequence (written around chaosbus)" in (
            verify(beyond, 1).problems
        )


class TestAcl:
    def test_operator_writes_only_through_narrow_selectors(self) -> None:
        """Operators hold INCR on the counts, SET on the kill note, HSET/HDEL on the pauses
        and RPUSH on their own audit list; no write key pattern outside a selector."""
        operator = rules(AclUser("op", "operator"), "ns")
        assert [r for r in operator if r.startswith("(")] == [
            "(+incr ~ns:kills)",
            "(+set ~ns:kill:last)",
            "(+hset +hdel ~ns:paused)",
            "(+incr ~ns:audit:seq)",
            "(+rpush ~ns:audit:by:op)",
        ]
        assert [r for r in operator if r.startswith(("%W~", "~"))] == []
        assert "+fcall" in operator
        assert "+xadd" not in operator

    def test_approver_writes_only_its_own_keys(self) -> None:
        """An approver may SET sign-offs ending in its own name, for its areas."""
        approver = rules(AclUser("al", "approver", ("business", "privacy")), "ns")
        assert "(+set ~ns:approval:business:*:al ~ns:approval:privacy:*:al)" in approver
        assert "(+rpush ~ns:audit:by:al)" in approver

    def test_setuser_and_aclfile(self) -> None:
        """Printed rules never carry a password; aclfile lines do, for tests."""
        users = [AclUser("r", "reader")]
        assert setuser_commands(users, "ns")[0][:4] == ["ACL", "SETUSER", "r", "on"]
        assert aclfile_lines(users, "ns", {"r": "pw"})[0].startswith("user r on >pw -@all")


class TestApprovalState:
    def test_missing_names_each_area(self) -> None:
        """A run is refused naming every area still unsigned for this content."""
        state = ApprovalState("f" * 64, ("business", "security"), (Signoff("business", "al", 1),))
        assert state.missing == ("security",)
        with pytest.raises(ApprovalsMissing, match="lacks sign-off by security"):
            state.refuse_if_missing("exp.yaml")
        assert state.lines()[1:] == ["business   al", "security   MISSING"]


class TestGovernanceSpec:
    def test_sections_validate_with_their_paths(self) -> None:
        """`approvals:` and `notify:` parse; a bad area or URL names its path."""
        from chaosbus.experiment import parse_experiment_text
        from chaosbus.experiment.loader import ExperimentInvalid
        from chaosbus.scenarios import scenario

        base = scenario("duplicate-storm").text
        good = parse_experiment_text(
            base + "approvals: {required: [business, privacy]}\n"
            "notify: [{url: 'http://127.0.0.1:9/h', events: [kill]}]\n"
        )
        assert good.approvals is not None
        assert (good.approvals.required, good.notify[0].events) == (
            ("business", "privacy"),
            ("kill",),
        )
        with pytest.raises(ExperimentInvalid) as bad:
            parse_experiment_text(
                base + "approvals: {required: [Business]}\nnotify: [{url: 'file:///etc/passwd'}]\n"
            )
        assert [p.split(":")[0] for p in bad.value.problems] == [
            "approvals.required",
            "notify[0].url",
        ]
