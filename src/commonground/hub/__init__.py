"""The hub: the operational store (organisations, accounts, work items) and the service around it.

The rules stage hands its flags to :func:`commonground.hub.work_items.upsert_work_items`; the store is migrated
with :func:`commonground.hub.migrate.upgrade`.
"""
