"""Pure billing domain: no I/O, no Flask, no rendering. Decimal in, Decimal out."""
