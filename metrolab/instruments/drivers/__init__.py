"""Instrument drivers, one module per family (issue 16); the interface is in `base`."""
