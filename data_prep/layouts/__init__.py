"""Parsers of each dataset's raw on-disk layout (after acquisition) into sequences and windows."""
