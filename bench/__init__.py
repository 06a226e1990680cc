"""The benchmark harness of drsparse: a corpus generator and the measurements.

Outside the test suite on purpose: timings depend on the machine and never fail CI. CI runs
``bench/run.py --quick`` only to keep the harness itself working.
"""
