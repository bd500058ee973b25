"""The use cases: what billing systems, designers and auditors do, on ports (the archive,
the template registry, the search index), with typed results and domain errors; no HTTP."""
