"""Build-time execution and output checking of the course's code blocks (see engine.py)."""
