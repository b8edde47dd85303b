"""Evaluation: the batch physics, each result judged, QC status, post-release OOS."""
