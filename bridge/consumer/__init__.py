"""The vitals consumer: MQTT -> validate -> resolve bed -> live store + hooks -> batch insert -> ack.

``python -m bridge.consumer`` runs it as a process (SIGTERM: flush, commit, ack, disconnect, exit 0); the
embedded demo runs :class:`Consumer` in background threads of the web process.

Delivery (DESIGN.md §3): QoS 1 on a persistent session (fixed client id, ``clean_session=False``) with
paho-mqtt's *manual* acknowledgement, so a message is acknowledged (PUBACK) only after the database
transaction holding it has committed. A crash before the commit means the broker delivers it again; a crash
after the commit but before the PUBACK means a duplicate, which ``ON CONFLICT (device_id, ts, seq) DO
NOTHING`` absorbs and the counters show. Exactly-once in effect, nothing lost.

On the shared subscription, a consumer that stops leaves the share first unless it is the last one
(:meth:`Consumer.stop`, :mod:`~bridge.consumer.presence`): the broker would otherwise go on queuing its share of
every monitor's samples in its session.

The parts, one thread each (the GIL is shared, so each stage does its Python work while another waits on a
socket):

* :mod:`~bridge.consumer.fast_receive` and :mod:`~bridge.consumer.intake` - on paho's network thread, each
  message is read, parsed and validated (:mod:`domain.vitals_contract`) into a :class:`~.messages.Received` and
  queued (a bounded queue: back-pressure to the broker);
* :mod:`~bridge.consumer.pipeline` - ``writer-N`` threads: a numbered batch is resolved to its beds, handed to
  the live stage, stored, committed, acknowledged; a failing database is retried, never fatal;
* :mod:`~bridge.consumer.live_stage` - in batch order, each batch once: only samples newer than the newest
  already shown of their device (:mod:`~bridge.consumer.live_gate`) go to the live store
  (:mod:`~bridge.consumer.live_ticks`, docs/live-data.md) and the hooks (the clinical step); then every sample
  to the sequence-gap tracker (:mod:`bridge.sequence_gaps`, its own thread: resend requests, ``vital_gap``);
* :mod:`~bridge.consumer.housekeeping` - partitions, rollups, retention, and a snapshot of the counters
  (:mod:`~bridge.consumer.metrics`, which also serves ``/metrics`` and ``/healthz`` when asked to).

Batches fill only if the broker hands over enough unacknowledged messages: Mosquitto's
``max_inflight_messages`` (default 20) is the bound. Mosquitto 2.0 refills in bulk after each batch of PUBACKs,
so ``bench/ingest.py`` measures ~500-message batches even with 20, but ``max_inflight_messages 1000`` states
the intent (and bounds the consumer's memory while the database is away).
"""

from bridge.consumer.messages import Sample, StatusUpdate
from bridge.consumer.metrics import ConsumerMetrics
from bridge.consumer.options import ConsumerHooks, ConsumerOptions
from bridge.consumer.service import Consumer

__all__ = ["Consumer", "ConsumerHooks", "ConsumerMetrics", "ConsumerOptions", "Sample", "StatusUpdate"]
