"""The domain: functions over a connection / AWS clients returning frozen dataclasses.

Nothing here imports typer or rich; ``auroractl.ops`` is usable as a Python library.
"""
