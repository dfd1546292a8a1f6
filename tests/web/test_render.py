"""Rendering helpers of the pages."""

from __future__ import annotations

import pytest

from commonground.web.render import redirect


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/queue", "/queue?done=closed"),
        ("/queue?status=open", "/queue?status=open&done=closed"),
        ("/library/3#local", "/library/3?done=closed#local"),  # after the '#', the browser never sent it
        ("/people/P1?purpose=direct_care#notes", "/people/P1?purpose=direct_care&done=closed#notes"),
        ("//evil.example/", "/?done=closed"),  # never off the site
        ("https://evil.example/", "/?done=closed"),
    ],
)
def test_a_confirmation_code_goes_in_the_query_before_any_fragment(url: str, expected: str) -> None:
    assert redirect(url, done="closed").headers["location"] == expected
