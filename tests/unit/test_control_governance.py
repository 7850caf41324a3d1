"""The control plane's pure governance parts: the switch's meaning, the audit chain, ACL rules,
approval state."""

from __future__ import annotations

import pytest

from chaosbus.control.acl import AclUser, aclfile_lines, rules, setuser_commands
from chaosbus.control.approvals import ApprovalState, Signoff, parse_key
from chaosbus.control.chain import GENESIS, chained, verify
from chaosbus.control.errors import ApprovalsMissing
from chaosbus.control.keys import Keys, KillState, released_value, switch_state


class TestSwitchState:
    def test_only_a_released_marker_releases(self) -> None:
        """Absent, `1`, broken JSON or a wrong state all mean engaged (fail closed)."""
        for raw in (
            None,
            "1",
            "{",
            '{"state": "engaged", "actor": "a", "at_ms": 1, "covers": "0-0"}',
        ):
            assert switch_state(raw, None, None).engaged, raw
        assert not switch_state(released_value("admin", 1, "0-0"), None, None).engaged

    def test_a_kill_newer_than_the_release_engages(self) -> None:
        """A release covers kills up to its `covers` id; a later kill engages again."""
        value = released_value("admin", 1, "5-0")
        kill = KillState(actor="ops", reason="drill", at_ms=2)
        assert not switch_state(value, "5-0", kill).engaged
        later = switch_state(value, "5-1", kill)
        assert (later.engaged, later.detail) == (True, "kill switch engaged by ops: drill")

    def test_first_use_names_init(self) -> None:
        """A namespace never set up says how to set it up."""
        assert "chaosbus control init" in switch_state(None, None, None).detail

    def test_approval_keys_carry_the_user(self) -> None:
        """A sign-off's key ends with the user, so ACL key patterns bind it."""
        key = Keys("ns").approval("business", "ab" * 32, "approver-1")
        assert key == f"ns:approval:business:{'ab' * 32}:approver-1"
        assert parse_key(key, "ns") == ("business", "ab" * 32, "approver-1")
        assert parse_key("ns:approval:x:y:z:w", "ns") is None


def chain_of(count: int) -> list[tuple[str, dict[str, str]]]:
    rows: list[tuple[str, dict[str, str]]] = []
    prev = GENESIS
    for seq in range(1, count + 1):
        fields = chained({"action": "start", "actor": "ops", "at_ms": str(seq)}, seq, prev)
        rows.append((f"{seq}-0", fields))
        prev = fields["hash"]
    return rows


class TestAuditChain:
    def test_intact(self) -> None:
        """An untouched chain verifies, with its head hash."""
        rows = chain_of(4)
        result = verify(rows, 4)
        assert (result.intact, result.held, result.head) == (True, 4, rows[-1][1]["hash"])

    def test_trimmed_head(self) -> None:
        """XTRIM leaves the first entry held above seq 1: named as trimmed."""
        assert verify(chain_of(5)[2:], 5).problems == (
            "entries 1-2 missing before entry 3 (trimmed)",
        )

    def test_deleted_middle(self) -> None:
        """XDEL of entry 3 leaves a gap: named by position."""
        rows = chain_of(5)
        del rows[2]
        assert verify(rows, 5).problems == ("entry 3 missing before entry 4 (deleted)",)

    def test_deleted_tail(self) -> None:
        """The last entries gone: entries-added still counts them."""
        assert verify(chain_of(5)[:3], 5).problems == (
            "entries 4-5 missing at the end (deleted or trimmed)",
        )

    def test_edited(self) -> None:
        """A changed field no longer matches the entry's hash."""
        rows = chain_of(3)
        rows[1][1]["actor"] = "someone-else"
        assert verify(rows, 3).problems == (
            "entry 2 (stream id 2-0): edited, its hash does not match",
        )

    def test_rehashed_edit_breaks_the_link(self) -> None:
        """An edit with a recomputed hash no longer links to the next entry."""
        rows = chain_of(3)
        rows[1] = ("2-0", chained({**rows[1][1], "actor": "x"}, 2, rows[0][1]["hash"]))
        assert verify(rows, 3).problems == ("entry 3 (stream id 3-0): does not follow entry 2",)

    def test_unchained_entry(self) -> None:
        """An entry written around chaosbus (raw XADD) is named."""
        rows = [*chain_of(2), ("9-0", {"action": "kill"})]
        assert verify(rows, 3).problems[0] == "stream id 9-0: not chained (no seq/prev/hash)"


class TestAcl:
    def test_operator_cannot_write_the_release_marker(self) -> None:
        """Operators append to the audit log and the kills stream, pause scopes, and write
        nothing else."""
        operator = rules(AclUser("op", "operator"), "ns")
        writes = [r for r in operator if r.startswith(("%W~", "~"))]
        assert writes == ["%W~ns:audit", "%W~ns:kills", "%W~ns:paused"]

    def test_approver_writes_only_its_own_keys(self) -> None:
        """An approver may write sign-offs ending in its own name, for its areas."""
        approver = rules(AclUser("al", "approver", ("business", "privacy")), "ns")
        assert [r for r in approver if r.startswith("%W~ns:approval")] == [
            "%W~ns:approval:business:*:al",
            "%W~ns:approval:privacy:*:al",
        ]

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
