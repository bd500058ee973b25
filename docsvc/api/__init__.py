"""Flask blueprints, one per audience. They parse HTTP and call the service; no logic."""
