"""Is the service, its database, its queue and its worker up."""
