"""Interoperability: Pol.is-format import and export."""
