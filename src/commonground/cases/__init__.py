"""The hub: the operational store (organisations, accounts, work items) and the service around it.

The rules stage hands its flags to :func:`commonground.cases.work_items.upsert_work_items`; the store is migrated
with :func:`commonground.store.migrate.upgrade`.
"""
