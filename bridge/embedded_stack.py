"""The background processes of the all-in-one demo, run as threads of the web process: the consumer with its
clinical step (NEWS2 and alarms) and, in the demo, the monitor and clinic-queue simulators. Production runs each
as its own process (``python -m bridge.consumer``, ``python -m iot_sim``); this wires the very same classes."""

from __future__ import annotations

import logging

from bridge.clinical import ClinicalPipeline
from bridge.consumer import Consumer, ConsumerHooks, ConsumerOptions
from bridge.queue_demo_runner import QueueDemoRunner
from data.runtime import Runtime
from data.wards import occupied_bed_devices
from iot_sim.simulator import Simulator

log = logging.getLogger(__name__)
# Demo story: ICU-03 slides into sepsis (compressed by PANTAU_SIMULATOR_SPEED), MEL-06 has opioid respiratory
# depression; everyone else is stable.
DEMO_SCENARIOS = {"ICU-03": "sepsis", "MEL-06": "opioid"}


class EmbeddedStack:
    """Start with ``start()``, stop (in reverse order, flushing the consumer) with ``stop()``."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        simulate: bool,
        devices: list[str] | None = None,  # None: the monitors of occupied beds
        scenarios: dict[str, str] | None = None,
        client_id: str = "pantau-consumer",
    ) -> None:
        self.runtime = runtime
        self.pipeline = ClinicalPipeline(runtime.db, runtime.live)
        self.consumer = Consumer(
            runtime,
            ConsumerOptions(client_id=client_id),
            ConsumerHooks(on_samples=(self.pipeline.on_samples,), on_status=(self.pipeline.on_status,)),
        )
        self.pipeline.adt_listeners.append(self.consumer.directory.invalidate)  # a new pairing counts at once
        if simulate and devices is None:
            with runtime.db.session() as session:
                devices = occupied_bed_devices(session)
        self.simulator = (
            Simulator(
                runtime.broker,
                runtime.settings.site_code,
                devices,
                speed=runtime.settings.simulator_speed,
                scenarios=DEMO_SCENARIOS if scenarios is None else scenarios,
            )
            if simulate
            else None
        )
        self.queues = QueueDemoRunner(runtime) if simulate else None

    def start(self) -> None:
        self.pipeline.start()
        self.consumer.start()
        if not self.consumer.wait_ready(timeout=15):
            log.warning("consumer not subscribed yet; it keeps retrying in the background")
        if self.simulator is not None:
            self.simulator.start()
        if self.queues is not None:
            self.queues.start()

    def stop(self) -> None:
        if self.queues is not None:
            self.queues.stop()
        if self.simulator is not None:
            self.simulator.stop()
        self.consumer.stop()
        self.pipeline.stop()
