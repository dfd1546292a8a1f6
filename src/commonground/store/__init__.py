"""The bottom layer of the operational side: engine and sessions, the declarative base, the partner organisations,
the service settings and the migrations. Its code imports nothing above it."""
