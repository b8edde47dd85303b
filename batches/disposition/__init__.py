"""Disposition: what is signed, what blocks, and the review/release/reject services."""
