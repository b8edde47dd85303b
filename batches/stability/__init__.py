"""Stability studies of batches: pulls recorded against an approved protocol (append-only,
audited), the ICH Q1E estimate per product (qc.stability), and the check that no approved
shelf life exceeds what the data support."""
