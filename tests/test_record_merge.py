"""Per-field last writer wins with tombstones and recorded conflicts: examples, then random sites that edit,
delete and exchange changes, checked for convergence under any order and repetition."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.hlc import Hlc, receive, tick
from domain.record_merge import (
    DELETED,
    Change,
    Conflict,
    MergeError,
    Op,
    RecordState,
    Value,
    Write,
    apply,
    delete,
    edit,
)

T0 = 1_764_835_200_000
PKM, RS = "PKM-01", "RS-01"


def run(state: RecordState, *changes: Change) -> tuple[RecordState, list[Conflict]]:
    conflicts: list[Conflict] = []
    for change in changes:
        applied = apply(state, change)
        state = applied.state
        conflicts += applied.conflicts
    return state, conflicts


def created() -> tuple[RecordState, Change]:
    """A record registered at the Puskesmas and known at both sites."""
    new = edit(RecordState("p1"), {"name": "Siti Aminah", "phone": "0812"}, change_id="c0", at=Hlc(T0, 0, PKM))
    return apply(RecordState("p1"), new).state, new


def test_an_edit_made_after_seeing_the_other_is_no_conflict() -> None:
    base, _ = created()
    first = edit(base, {"phone": "0813"}, change_id="c1", at=Hlc(T0 + 10, 0, RS))
    seen, _ = run(base, first)
    second = edit(seen, {"phone": "0814"}, change_id="c2", at=Hlc(T0 + 20, 0, PKM))
    state, conflicts = run(base, first, second)
    assert state.values() == {"name": "Siti Aminah", "phone": "0814"} and conflicts == []


def test_the_same_field_changed_at_both_sites_keeps_the_newer_and_records_the_conflict() -> None:
    base, _ = created()
    at_rs = edit(base, {"phone": "0813"}, change_id="c1", at=Hlc(T0 + 10, 0, RS))
    at_pkm = edit(base, {"phone": "0899", "name": "Siti Aminah S."}, change_id="c2", at=Hlc(T0 + 10, 0, PKM))
    expected = [Conflict("p1", "phone", Hlc(T0 + 10, 0, PKM), Hlc(T0 + 10, 0, RS), "0899", "0813")]
    for order in ((at_rs, at_pkm), (at_pkm, at_rs)):
        state, conflicts = run(base, *order)
        assert state.values() == {"name": "Siti Aminah S.", "phone": "0813"}  # same ms: RS-01 > PKM-01 breaks it
        assert conflicts == expected


def test_the_same_value_written_at_both_sites_is_no_conflict() -> None:
    base, _ = created()
    one = edit(base, {"phone": "0813"}, change_id="c1", at=Hlc(T0 + 10, 0, RS))
    two = edit(base, {"phone": "0813"}, change_id="c2", at=Hlc(T0 + 12, 0, PKM))
    assert run(base, one, two)[1] == [] and run(base, two, one)[1] == []


def test_a_delete_wins_over_an_older_edit_and_the_pair_is_a_conflict() -> None:
    base, _ = created()
    edited = edit(base, {"phone": "0813"}, change_id="c1", at=Hlc(T0 + 10, 0, RS))
    removed = delete(base, change_id="c2", at=Hlc(T0 + 20, 0, PKM))
    for order in ((edited, removed), (removed, edited)):
        state, conflicts = run(base, *order)
        assert state.deleted and state.tombstone == Hlc(T0 + 20, 0, PKM)
        assert state.values()["phone"] == "0813"  # soft: the edit is kept under the tombstone
        assert [(c.field, c.won_value, c.lost_value) for c in conflicts] == [(DELETED, True, False)]


def test_an_edit_newer_than_a_delete_it_did_not_see_brings_the_record_back() -> None:
    base, _ = created()
    removed = delete(base, change_id="c1", at=Hlc(T0 + 10, 0, PKM))
    edited = edit(base, {"phone": "0813"}, change_id="c2", at=Hlc(T0 + 20, 0, RS))
    state, conflicts = run(base, removed, edited)
    assert not state.deleted and state.tombstone is None and state.values()["phone"] == "0813"
    assert [(c.field, c.won_value) for c in conflicts] == [(DELETED, False)]


def test_a_delete_made_after_seeing_everything_is_no_conflict_and_a_restore_undoes_it() -> None:
    base, _ = created()
    edited = edit(base, {"phone": "0813"}, change_id="c1", at=Hlc(T0 + 10, 0, RS))
    removed = delete(run(base, edited)[0], change_id="c2", at=Hlc(T0 + 20, 0, PKM))
    state, conflicts = run(base, removed, edited)
    assert state.deleted and conflicts == []
    assert edit(state, {}, change_id="c3", at=Hlc(T0 + 30, 0, PKM)) is not None
    restored, conflicts = run(state, edit(state, {}, change_id="c3", at=Hlc(T0 + 30, 0, PKM)))
    assert not restored.deleted and restored.values() == {"name": "Siti Aminah", "phone": "0813"} and conflicts == []


def test_deletes_at_both_sites_agree_and_are_no_conflict() -> None:
    base, _ = created()
    one, two = delete(base, change_id="c1", at=Hlc(T0 + 1, 0, RS)), delete(base, change_id="c2", at=Hlc(T0, 5, PKM))
    state, conflicts = run(base, one, two)
    assert state.deleted and state.tombstone == Hlc(T0 + 1, 0, RS) and conflicts == []


def test_sites_that_were_cut_off_catch_up_to_the_same_record_and_the_same_conflicts() -> None:
    """The broker is down while both sites keep working; then each site receives the other's changes, some of
    them twice (resent because an acknowledgement was lost)."""
    base, _ = created()
    pkm_1 = edit(base, {"phone": "0813", "address": "Jl. Melati 3"}, change_id="p1", at=Hlc(T0 + 10, 0, PKM))
    pkm_2 = edit(run(base, pkm_1)[0], {"phone": "0814"}, change_id="p2", at=Hlc(T0 + 30, 0, PKM))
    rs_1 = edit(base, {"phone": "0899", "name": "Siti Aminah"}, change_id="r1", at=Hlc(T0 + 20, 0, RS))
    pkm_state, pkm_conflicts = run(run(base, pkm_1, pkm_2)[0], rs_1, rs_1)
    rs_state, rs_conflicts = run(run(base, rs_1)[0], pkm_2, pkm_1, pkm_2)
    expected = {"address": "Jl. Melati 3", "name": "Siti Aminah", "phone": "0814"}
    assert pkm_state == rs_state and pkm_state.values() == expected
    assert (
        set(pkm_conflicts)
        == set(rs_conflicts)
        == {
            Conflict("p1", "phone", Hlc(T0 + 10, 0, PKM), Hlc(T0 + 20, 0, RS), "0813", "0899"),
            Conflict("p1", "phone", Hlc(T0 + 20, 0, RS), Hlc(T0 + 30, 0, PKM), "0899", "0814"),
        }
    )
    assert len(pkm_conflicts) == len(rs_conflicts) == 2  # the changes received twice found nothing new


def test_applying_a_change_again_changes_nothing() -> None:
    base, creation = created()
    again = apply(base, creation)
    assert again.state == base and not again.changed and again.conflicts == ()
    assert apply(RecordState("p1"), creation).changed


def test_a_change_that_only_moves_history_is_not_a_visible_change() -> None:
    base, _ = created()
    newer = edit(base, {"phone": "0813"}, change_id="c1", at=Hlc(T0 + 20, 0, RS))
    older = edit(base, {"phone": "0899"}, change_id="c2", at=Hlc(T0 + 10, 0, PKM))
    late = apply(apply(base, newer).state, older)
    assert not late.changed and late.state != apply(base, newer).state and len(late.conflicts) == 1


def test_saving_unchanged_values_makes_no_change_and_only_changed_fields_travel() -> None:
    base, _ = created()
    assert edit(base, {"name": "Siti Aminah", "phone": "0812"}, change_id="c1", at=Hlc(T0 + 1, 0, PKM)) is None
    change = edit(base, {"name": "Siti Aminah", "phone": 812}, change_id="c1", at=Hlc(T0 + 1, 0, PKM))
    assert change is not None and set(change.fields) == {"phone"}  # 812 is not "0812", nor is True 1
    assert change.fields["phone"].base == Hlc(T0, 0, PKM) and change.base == Hlc(T0, 0, PKM)


def test_the_fingerprint_follows_what_the_record_is() -> None:
    base, _ = created()
    assert base.fingerprint() == created()[0].fingerprint()
    assert run(base, delete(base, change_id="c1", at=Hlc(T0 + 1, 0, RS)))[0].fingerprint() != base.fingerprint()
    assert RecordState("p2", base.history).fingerprint() != base.fingerprint()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"change_id": "c 1"}, "change id"),
        ({"record_id": "p1\n"}, "record id"),
        ({"origin": RS}, "not by the change's origin"),
        ({"op": "merge"}, "neither upsert nor delete"),
        ({"op": "delete"}, "carries no fields"),
        ({"fields": {"Name": Write("x", Hlc(T0, 0, PKM))}}, "field name"),
        ({"fields": {DELETED: Write(True, Hlc(T0, 0, PKM))}}, "field name"),
        ({"fields": {"name": Write(["x"], Hlc(T0, 0, PKM))}}, "holds a list"),
        ({"fields": {"weight": Write(float("nan"), Hlc(T0, 0, PKM))}}, "finite"),
        ({"fields": {"name": Write("x", Hlc(T0, 0, PKM), Hlc(T0, 0, PKM))}}, "base is not before"),
        ({"fields": {"name": Write("x", Hlc(T0 + 1, 0, PKM))}}, "after its change"),
        ({"base": Hlc(T0 + 5, 0, RS)}, "base is not before"),
    ],
)
def test_malformed_changes_are_refused(kwargs: dict, message: str) -> None:
    values = {"change_id": "c1", "record_id": "p1", "origin": PKM, "op": Op.UPSERT, "hlc": Hlc(T0, 0, PKM)}
    values["fields"] = {"name": Write("x", Hlc(T0, 0, PKM))}
    with pytest.raises(MergeError, match=message):
        Change(**(values | kwargs))


def test_one_clock_carrying_two_values_or_a_change_of_another_record_is_refused() -> None:
    base, creation = created()
    forged = Change("c9", "p1", PKM, Op.UPSERT, creation.hlc, None, {"name": Write("Budi", creation.hlc)})
    with pytest.raises(MergeError, match="two different writes of name"):
        apply(base, forged)
    with pytest.raises(MergeError, match="record p1 applied to record p2"):
        apply(RecordState("p2"), creation)


# ---- random sites ---------------------------------------------------------------------------------------------

SITES = ("A", "B", "C")
RECORDS = ("r1", "r2")
FIELDS = ("name", "phone", "address")
values_st = st.one_of(st.sampled_from(["x", "y", "z"]), st.integers(0, 2), st.booleans(), st.none())

action = st.one_of(
    st.tuples(
        st.just("edit"),
        st.sampled_from(SITES),
        st.sampled_from(RECORDS),
        st.dictionaries(st.sampled_from(FIELDS), values_st, max_size=3),
    ),
    st.tuples(st.just("delete"), st.sampled_from(SITES), st.sampled_from(RECORDS)),
    st.tuples(st.just("deliver"), st.sampled_from(SITES), st.integers(0, 1_000)),
    st.tuples(st.just("wait"), st.integers(-5, 30)),  # a wall clock may step back a little
)


@dataclass
class Site:
    clock: Hlc
    records: dict[str, RecordState] = field(default_factory=dict)
    pending: list[Change] = field(default_factory=list)
    conflicts: set[Conflict] = field(default_factory=set)

    def take(self, change: Change) -> None:
        state = self.records.get(change.record_id, RecordState(change.record_id))
        applied = apply(state, change)
        self.records[change.record_id] = applied.state
        self.conflicts.update(applied.conflicts)


def simulate(actions: list[tuple]) -> tuple[dict[str, Site], list[Change]]:
    """Sites that edit, delete and deliver each other's changes one at a time, in the drawn order."""
    sites = {name: Site(Hlc.zero(name)) for name in SITES}
    made: list[Change] = []
    now = T0
    for act in actions:
        if act[0] == "wait":
            now += act[1]
            continue
        site = sites[act[1]]
        if act[0] == "deliver":
            if site.pending:
                change = site.pending.pop(act[2] % len(site.pending))
                site.clock = receive(site.clock, change.hlc, now)
                site.take(change)
            continue
        record = act[2]
        state = site.records.get(record, RecordState(record))
        site.clock = tick(site.clock, now)
        change_id = f"{act[1]}-{len(made)}"
        if act[0] == "edit":
            change = edit(state, act[3], change_id=change_id, at=site.clock)
        else:
            change = delete(state, change_id=change_id, at=site.clock)
        if change is None:
            continue
        site.take(change)
        made.append(change)
        for other in SITES:
            if other != act[1]:
                sites[other].pending.append(change)
    return sites, made


def merged(changes: list[Change]) -> tuple[dict[str, RecordState], set[Conflict]]:
    site = Site(Hlc.zero("Z"))
    for change in changes:
        site.take(change)
    return site.records, site.conflicts


def oracle_conflicts(changes: list[Change]) -> set[Conflict]:
    """The conflict rule computed the slow way: every pair of distinct writes of one field."""
    writes: dict[tuple[str, str], dict[Hlc, Write]] = {}
    for change in changes:
        for name, write in change.writes().items():
            writes.setdefault((change.record_id, name), {})[write.hlc] = write
    found = set()
    for (record, name), by_clock in writes.items():
        for a, b in itertools.combinations(sorted(by_clock.values(), key=lambda w: w.hlc), 2):
            unseen = b.base is None or b.base < a.hlc
            if unseen and (type(a.value), a.value) != (type(b.value), b.value):
                found.add(Conflict(record, name, a.hlc, b.hlc, a.value, b.value))
    return found


def newest(changes: list[Change], record: str, name: str) -> Value:
    writes = [change.writes()[name] for change in changes if change.record_id == record and name in change.writes()]
    return max(writes, key=lambda w: w.hlc).value


SIM = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SIM
@given(st.lists(action, max_size=60))
def test_sites_that_receive_everything_converge_with_the_same_conflicts(actions: list[tuple]) -> None:
    sites, made = simulate(actions)
    for site in sites.values():
        for change in site.pending:
            site.take(change)
    states, conflicts = merged(made)
    for site in sites.values():
        assert site.records == states and site.conflicts == conflicts
    assert conflicts == oracle_conflicts(made)


@SIM
@given(st.lists(action, max_size=60), st.data())
def test_any_order_and_any_repetition_give_the_same_state_and_conflicts(actions: list[tuple], data) -> None:
    _, made = simulate(actions)
    states, conflicts = merged(made)
    shuffled = data.draw(st.permutations(made))
    repeated = data.draw(st.lists(st.sampled_from(made), max_size=20)) if made else []
    again_states, again_conflicts = merged(shuffled + repeated + shuffled)
    assert again_states == states and again_conflicts == conflicts
    for state in states.values():
        for change in made:
            if change.record_id == state.record_id:
                again = apply(state, change)
                assert again.state == state and not again.changed and again.conflicts == ()


@SIM
@given(st.lists(action, max_size=60))
def test_the_newest_write_wins_and_the_newest_register_write_says_deleted(actions: list[tuple]) -> None:
    _, made = simulate(actions)
    states, _ = merged(made)
    for record, state in states.items():
        assert state.values() == {name: newest(made, record, name) for name in state.values()}
        assert state.deleted is newest(made, record, DELETED)
        deletes = [c.hlc for c in made if c.record_id == record and c.op is Op.DELETE]
        upserts = [c.hlc for c in made if c.record_id == record and c.op is Op.UPSERT]
        assert state.deleted == bool(deletes and (not upserts or max(deletes) > max(upserts)))
