"""Staff administration: the bureau's accounts, teams (包村工作组) and their villages and members."""
