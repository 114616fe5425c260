"""Reusable widgets for one stream each (scrubber, event list, state panel, content view,
rate strip); the diff screen places two of each side by side."""
