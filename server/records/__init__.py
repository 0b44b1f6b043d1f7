"""The synced records (household, child, visit, task): what each one is (registry.py) and the
one way the server changes one (writer.py)."""
