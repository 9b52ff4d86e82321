"""Command groups: thin wrappers that parse options, call ``auroractl.ops`` and print."""
