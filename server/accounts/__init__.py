"""People who use the product, their roles, teams, tokens and the areas they may touch."""
