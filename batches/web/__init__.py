"""HTML views of the lab web interface, split by page. Thin: read through selectors, write
through services, render."""
