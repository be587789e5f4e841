"""Sub-commands of the ``vpbench`` CLI, one module each."""
