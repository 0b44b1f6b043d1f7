"""The synced records (household, child, visit, task): what each one is (registry) and the one
way each is written (writer)."""
