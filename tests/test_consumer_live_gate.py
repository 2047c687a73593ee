"""The consumer's live gate (bridge/consumer/live_gate.py): only a device's newest samples become live, each once."""

from __future__ import annotations

from types import SimpleNamespace

from bridge.consumer.live_gate import LiveGate


def sample(device: str, seq: int, ts: int) -> SimpleNamespace:
    return SimpleNamespace(msg=SimpleNamespace(device_id=device, seq=seq, ts=ts))


def seqs(samples: list) -> list[tuple[str, int]]:
    return [(s.msg.device_id, s.msg.seq) for s in samples]


def test_newer_samples_pass_in_order_per_device() -> None:
    gate = LiveGate()
    batch = [sample("A", 1, 1000), sample("B", 7, 500), sample("A", 2, 2000), sample("B", 8, 1500)]
    assert seqs(gate.admit(batch)) == [("A", 1), ("B", 7), ("A", 2), ("B", 8)]
    assert seqs(gate.admit([sample("A", 3, 3000)])) == [("A", 3)]


def test_a_redelivered_or_resent_sample_passes_only_once() -> None:
    gate = LiveGate()
    assert seqs(gate.admit([sample("A", 1, 1000), sample("A", 3, 3000)])) == [("A", 1), ("A", 3)]
    # Redelivered (same sample again, also twice in one batch) and resent older (a filled gap): never live.
    assert gate.admit([sample("A", 3, 3000), sample("A", 2, 2000), sample("A", 1, 1000)]) == []
    assert seqs(gate.admit([sample("A", 4, 4000), sample("A", 4, 4000)])) == [("A", 4)]
    # Within a batch the order counts: an older sample after a newer one is held back too.
    assert seqs(gate.admit([sample("A", 6, 6000), sample("A", 5, 5000)])) == [("A", 6)]


def test_a_monitor_that_restarts_its_counter_is_still_live() -> None:
    gate = LiveGate()
    gate.admit([sample("A", 900, 10_000)])
    assert seqs(gate.admit([sample("A", 0, 11_000), sample("A", 1, 12_000)])) == [("A", 0), ("A", 1)]
    assert gate.admit([sample("A", 901, 10_500)]) == []  # a late sample from before the restart
