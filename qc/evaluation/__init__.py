"""Pure evaluation of QC results against acceptance criteria, expiry, and decay tables.

Plain values in, plain values out: no Django, no database. values (what goes in and out),
verdicts (evaluate), validity (when a measurement counts), expiry, decay_table.
"""
