"""Certificates: content, issue (render, sign, store), verification, signing identity."""
