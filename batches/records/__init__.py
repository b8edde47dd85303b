"""Recording: batch registration, results (single, bulk, corrections) and raw data."""
