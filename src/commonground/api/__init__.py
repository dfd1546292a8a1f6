"""The web service: the JSON API (OpenAPI at ``/api/docs``) and the sign-in pages. Build it with
:func:`commonground.api.app.create_app`."""
