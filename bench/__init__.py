"""`make bench`: how far each hop of safety-month is from its physical limit, measured against a
baseline in the same run (issue 7). `python -m bench --help` tells how to run it."""
