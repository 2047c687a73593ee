"""``python -m bridge.consumer`` (:func:`bridge.consumer.cli.main`)."""

from bridge.consumer.cli import main

raise SystemExit(main())
