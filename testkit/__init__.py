"""Support code shared by the test suite (``tests/``) and the benchmarks (``bench/``): real PostgreSQL, Redis and
Mosquitto servers on loopback ports (``testkit.servers``), the system Chromium they drive (``testkit.chromium``),
the front desk as they drive it (``testkit.front_desk``) and names the desk accepts (``testkit.names``). Nothing
here imports pytest; it is not part of the installed application."""
