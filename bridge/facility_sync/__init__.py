"""The facility sync worker (``python -m bridge.facility_sync``): sends this site's queued patient changes to its
peers over MQTT, applies theirs once, acknowledges, resends what stays unacknowledged, and answers ``verify``.

Modules: :mod:`.options` (settings to link keyrings, refusals), :mod:`.control` (the sealed acks and verify
messages), :mod:`.worker` (the loop), :mod:`.verify` (the ``verify`` command), :mod:`.cli`.
See docs/facility_sync.md, "The worker".
"""
