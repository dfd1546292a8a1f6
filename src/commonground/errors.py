"""Errors a user can act on. The CLI prints their message without a traceback.

A message names the file, row and field where there is one, and never a personal value.
"""

from __future__ import annotations


class UserError(Exception):
    """Something the person running commonground can fix: a wrong path, a bad argument, a refused file."""
