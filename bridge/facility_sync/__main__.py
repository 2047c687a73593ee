"""``python -m bridge.facility_sync`` (:func:`bridge.facility_sync.cli.main`)."""

from bridge.facility_sync.cli import main

raise SystemExit(main())
