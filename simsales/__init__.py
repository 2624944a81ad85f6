"""simsales: a discrete-event simulator of B2B sales processes, buyer and seller as joint actors."""

__version__ = "0.1.0"
