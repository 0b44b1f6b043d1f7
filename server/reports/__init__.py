"""The campaign's reports: counts and the three rates by village, town, school and city, the
monthly dropout report and the semester-start check; XLSX exports built by jobs."""
