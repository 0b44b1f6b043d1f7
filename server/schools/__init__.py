"""Schools (学校), by their 学校标识码."""
