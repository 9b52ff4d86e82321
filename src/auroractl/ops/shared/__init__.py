"""The shared ops layer: catalog lookups, sessions, locks and the names of auroractl's
own objects. It belongs to no feature and imports none (an import contract checks)."""
