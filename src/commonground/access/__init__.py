"""Who may do what, for which purpose, under which agreement: declared actions, roles, data-sharing agreements,
the one permission resolver and the hash-chained audit log."""
