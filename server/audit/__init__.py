"""Who read, exported or changed what: the trail the bureau reviews."""
