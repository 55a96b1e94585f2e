"""Background jobs: the clustering runner."""
